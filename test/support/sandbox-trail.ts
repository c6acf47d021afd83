/**
 * What an execution leaves on the host, followed from outside: while it runs, the processes that
 * carry a marker on their command line and the per-execution cgroups they ran in; once it has
 * answered, whether any of them is still there.
 */
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

import { CGROUP_PREFIX } from "../../src/sandbox/cgroup.ts";
import { lingers, processesWith, survivors } from "./processes.ts";

const CGROUP_ROOT = "/sys/fs/cgroup";

/** The host directories of the per-execution cgroups `pid` is in (v1: one per hierarchy; v2: one). */
function executionCgroupsOf(pid: number): string[] {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch {
    return []; // exited while we looked
  }
  const dirs: string[] = [];
  for (const line of text.trim().split("\n")) {
    const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined || controllers === undefined || !basename(path).startsWith(CGROUP_PREFIX)) continue;
    if (controllers === "") dirs.push(join(CGROUP_ROOT, path));
    for (const controller of controllers.split(",").filter((c) => c === "memory" || c === "pids"))
      dirs.push(join(CGROUP_ROOT, controller, path));
  }
  return dirs;
}

export interface Trail {
  /** Stops watching; what was seen while the execution ran. */
  stop(): { pids: number[]; cgroups: string[] };
}

/** Watches (every 10 ms) for processes with `marker` and records their pids and execution cgroups. */
export function followSandbox(marker: string): Trail {
  const pids = new Set<number>();
  const cgroups = new Set<string>();
  const look = (): void => {
    for (const p of processesWith(marker)) {
      pids.add(p.pid);
      for (const dir of executionCgroupsOf(p.pid)) cgroups.add(dir);
    }
  };
  look();
  const timer = setInterval(look, 10);
  return {
    stop() {
      clearInterval(timer);
      look();
      return { pids: [...pids], cgroups: [...cgroups] };
    },
  };
}

/**
 * After an execution answered: nothing with `marker` is left, and the cgroups its processes ran
 * in are gone (the engine removes them right after the answer, so this polls for a while).
 * Returns what is left, as messages; an empty list is a clean end.
 */
export async function leftBehind(marker: string, seen: { cgroups: string[] }, withinMs = 5_000): Promise<string[]> {
  const left: string[] = (await survivors(marker, withinMs)).map((p) => `process ${p.pid}: ${p.cmdline}`);
  for (const dir of seen.cgroups)
    if (await lingers(dir, withinMs))
      left.push(
        `cgroup ${dir}${existsSync(join(dir, "cgroup.procs")) ? ` (holding ${readFileSync(join(dir, "cgroup.procs"), "utf8").trim().split("\n").filter(Boolean).length} processes)` : ""}`,
      );
  return left;
}
