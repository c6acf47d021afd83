/**
 * One cgroup per execution for its memory and process limits, created under the engine's own
 * cgroup (so the sandboxes count against whatever budget the engine's host gave it), joined by
 * the launch wrapper before bubblewrap starts, read once the execution ends (did it trip a
 * limit?) and removed after. cgroup v1 (memory and pids hierarchies) and v2 (unified) both work.
 *
 * Why the counters: an OOM kill is a SIGKILL like any other, and a fork that fails at pids.max is
 * an EAGAIN the program may turn into any error; only the cgroup knows the limit was the cause.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";
const EMPTY_POLL_MS = 5;
const EMPTY_WAIT_MS = 5_000;
const KILL_STRAGGLERS_AFTER_MS = 1_000;

export interface CgroupLimits {
  memoryBytes: number;
  maxProcesses: number;
}

/** Where per-execution cgroups go on this host, or why they cannot. */
export type CgroupSupport =
  | { version: 1; memoryParent: string; pidsParent: string }
  | { version: 2; parent: string }
  | { version: null; reason: string };

/** The path of this process's cgroup in a hierarchy, from /proc/self/cgroup ("4:memory:/a/b" or "0::/a/b"). */
function ownCgroup(controller: string | null): string | null {
  const lines = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
  for (const line of lines) {
    const [, , controllers, path] = /^(\d+):([^:]*):(.*)$/.exec(line) ?? [];
    if (path === undefined || controllers === undefined) continue;
    if (controller === null ? controllers === "" : controllers.split(",").includes(controller)) return path;
  }
  return null;
}

/**
 * Where this process's cgroup `path` is in a hierarchy mounted at `mount`. On a host, the mount
 * plus the path. In a container without a cgroup namespace, /proc/self/cgroup still names the
 * host's path while the runtime mounts the container's own cgroup (or the directory the operator
 * delegated to it, docs/deploy.md) at the hierarchy's root: the root is then the place.
 */
function placeIn(mount: string, path: string): string {
  const full = join(mount, path);
  return existsSync(full) ? full : mount;
}

/** Why this process cannot make cgroups under `parents`, or null when it can. */
function notWritable(parents: string[]): string | null {
  for (const parent of parents) {
    try {
      accessSync(parent, constants.W_OK);
    } catch {
      const uid = process.getuid?.() ?? -1;
      return `${parent} is not writable by this engine (uid ${uid}): delegate it to the engine's user (chown -R ${uid} on the host's directory; docs/deploy.md)`;
    }
  }
  return null;
}

export function detectCgroups(): CgroupSupport {
  try {
    // Hybrid hosts mount an empty unified hierarchy beside v1: the controllers are where they are attached.
    if (existsSync(join(CGROUP_ROOT, "memory/cgroup.procs")) && existsSync(join(CGROUP_ROOT, "pids/cgroup.procs"))) {
      const memory = ownCgroup("memory");
      const pids = ownCgroup("pids");
      if (memory === null || pids === null)
        return { version: null, reason: "this process is in no v1 memory or pids cgroup" };
      const memoryParent = placeIn(join(CGROUP_ROOT, "memory"), memory);
      const pidsParent = placeIn(join(CGROUP_ROOT, "pids"), pids);
      const refused = notWritable([memoryParent, pidsParent]);
      return refused === null ? { version: 1, memoryParent, pidsParent } : { version: null, reason: refused };
    }
    if (existsSync(join(CGROUP_ROOT, "cgroup.controllers"))) {
      const own = ownCgroup(null);
      if (own === null) return { version: null, reason: "this process is in no cgroup v2 cgroup" };
      const parent = placeIn(CGROUP_ROOT, own);
      const refused = notWritable([parent]);
      if (refused !== null) return { version: null, reason: refused };
      const available = readFileSync(join(parent, "cgroup.controllers"), "utf8").split(/\s+/);
      const missing = ["memory", "pids"].filter((c) => !available.includes(c));
      if (missing.length > 0)
        return {
          version: null,
          reason: `cgroup v2: the ${missing.join(" and ")} controller(s) are not delegated to ${parent}`,
        };
      return { version: 2, parent };
    }
    return { version: null, reason: `no memory and pids cgroup controllers are mounted under ${CGROUP_ROOT}` };
  } catch (err: unknown) {
    return { version: null, reason: `cannot read cgroups: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export type CgroupTrip = "memory" | "processes";

/** Per-execution cgroups are named so (the fork server's too): `graphbox-<uuid>`. */
export const CGROUP_PREFIX = "graphbox-";
const STALE_AFTER_MS = 60_000;

/**
 * Removes the empty `graphbox-*` cgroups an engine that died (SIGKILL, power loss) left behind.
 * Only those older than a minute: a new cgroup is empty for the instant before its wrapper joins.
 * rmdir refuses a cgroup that still holds a process, so nothing live is ever touched.
 */
export async function sweepStaleCgroups(support: CgroupSupport): Promise<number> {
  const parents =
    support.version === 1 ? [support.memoryParent, support.pidsParent] : support.version === 2 ? [support.parent] : [];
  let removed = 0;
  for (const parent of parents) {
    const names = await readdir(parent).catch(() => [] as string[]);
    for (const name of names.filter((n) => n.startsWith(CGROUP_PREFIX))) {
      const dir = join(parent, name);
      try {
        if (Date.now() - (await stat(dir)).ctimeMs < STALE_AFTER_MS || (await members(dir)).length > 0) continue;
        await rmdir(dir);
        removed += 1;
      } catch {
        // In use, or removed by its engine meanwhile.
      }
    }
  }
  return removed;
}

/** Reads "key value" lines (memory.events, pids.events, memory.oom_control) into a number. */
async function counter(file: string, key: string): Promise<number> {
  try {
    const text = await readFile(file, "utf8");
    const match = new RegExp(`^${key} (\\d+)$`, "m").exec(text);
    return match ? Number(match[1]) : 0;
  } catch {
    return 0;
  }
}

async function members(dir: string): Promise<number[]> {
  try {
    const text = await readFile(join(dir, "cgroup.procs"), "utf8");
    return text.split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export class ExecutionCgroup {
  private removed = false;

  private constructor(
    private readonly support: Exclude<CgroupSupport, { version: null }>,
    /** The cgroup directories (one per v1 hierarchy, one in v2). */
    private readonly dirs: string[],
  ) {}

  /** Creates the cgroup with its limits; on failure nothing is left behind. */
  static async create(support: CgroupSupport, name: string, limits: CgroupLimits): Promise<ExecutionCgroup> {
    if (support.version === null) throw new Error(support.reason);
    if (support.version === 1) {
      const group = new ExecutionCgroup(support, [join(support.memoryParent, name), join(support.pidsParent, name)]);
      try {
        const [memory, pids] = group.dirs as [string, string];
        await mkdir(memory);
        await mkdir(pids);
        await writeFile(join(memory, "memory.limit_in_bytes"), String(limits.memoryBytes));
        // With swap accounting, memory+swap gets the same cap: the limit cannot be dodged by swapping.
        if (existsSync(join(memory, "memory.memsw.limit_in_bytes")))
          await writeFile(join(memory, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
        await writeFile(join(pids, "pids.max"), String(limits.maxProcesses));
      } catch (err: unknown) {
        await group.remove();
        throw err;
      }
      return group;
    }
    await ExecutionCgroup.delegateControllers(support.parent);
    const group = new ExecutionCgroup(support, [join(support.parent, name)]);
    try {
      const [dir] = group.dirs as [string];
      await mkdir(dir);
      await writeFile(join(dir, "memory.max"), String(limits.memoryBytes));
      if (existsSync(join(dir, "memory.swap.max"))) await writeFile(join(dir, "memory.swap.max"), "0");
      await writeFile(join(dir, "pids.max"), String(limits.maxProcesses));
    } catch (err: unknown) {
      await group.remove();
      throw err;
    }
    return group;
  }

  /** cgroup v2 gives a child a controller only when the parent's subtree_control lists it. */
  private static async delegateControllers(parent: string): Promise<void> {
    const enabled = (await readFile(join(parent, "cgroup.subtree_control"), "utf8")).split(/\s+/);
    const wanted = ["memory", "pids"].filter((c) => !enabled.includes(c));
    if (wanted.length === 0) return;
    try {
      await writeFile(join(parent, "cgroup.subtree_control"), wanted.map((c) => `+${c}`).join(" "));
    } catch (err: unknown) {
      // EBUSY: the engine's cgroup holds processes itself ("no internal processes" rule).
      throw new Error(
        `cannot enable ${wanted.join(", ")} for children of ${parent} (${err instanceof Error ? err.message : String(err)}); run the engine in a delegated cgroup whose processes sit in a leaf, e.g. systemd Delegate=yes`,
      );
    }
  }

  /** Its directories: one per v1 hierarchy, or the one v2 directory. */
  get paths(): string[] {
    return [...this.dirs];
  }

  /** Files the launch wrapper writes its own pid into before it executes bubblewrap. */
  get procsFiles(): string[] {
    return this.dirs.map((dir) => join(dir, "cgroup.procs"));
  }

  /** Which limit, if any, the processes ran into. Memory first: an OOM kill explains everything after it. */
  async tripped(): Promise<CgroupTrip | null> {
    if (this.support.version === 1) {
      const [memory, pids] = this.dirs as [string, string];
      if ((await counter(join(memory, "memory.oom_control"), "oom_kill")) > 0) return "memory";
      if ((await counter(join(pids, "pids.events"), "max")) > 0) return "processes";
      return null;
    }
    const [dir] = this.dirs as [string];
    if ((await counter(join(dir, "memory.events"), "oom_kill")) > 0) return "memory";
    if ((await counter(join(dir, "pids.events"), "max")) > 0) return "processes";
    return null;
  }

  /** Peak memory of the processes, in bytes (0 when the kernel does not say). */
  async peakMemoryBytes(): Promise<number> {
    const file =
      this.support.version === 1
        ? join(this.dirs[0]!, "memory.max_usage_in_bytes")
        : join(this.dirs[0]!, "memory.peak");
    try {
      return Number((await readFile(file, "utf8")).trim()) || 0;
    } catch {
      return 0;
    }
  }

  /**
   * Waits until no process is left, then removes the cgroup. Normally the tree is already gone
   * (killing bubblewrap ends its PID namespace, and the kernel kills every process in it);
   * whatever is still there after a while is killed by pid.
   */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    const started = Date.now();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      let killed = false;
      for (;;) {
        const pids = await members(dir);
        if (pids.length === 0) break;
        const waited = Date.now() - started;
        if (waited > KILL_STRAGGLERS_AFTER_MS && !killed) {
          killed = true;
          if (this.support.version === 2 && existsSync(join(dir, "cgroup.kill")))
            await writeFile(join(dir, "cgroup.kill"), "1").catch(() => undefined);
          else for (const pid of pids) killQuietly(pid);
        }
        if (waited > EMPTY_WAIT_MS) break;
        await new Promise((r) => setTimeout(r, EMPTY_POLL_MS));
      }
      await rmdir(dir).catch(() => undefined);
    }
  }

  /** Whether any of its directories is still there (for tests and the doctor). */
  get exists(): boolean {
    return this.dirs.some((dir) => existsSync(dir));
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
