/** The host's processes, seen from the test (to check that nothing of a sandbox survives it). */
import { existsSync, readdirSync, readFileSync } from "node:fs";

export interface HostProcess {
  pid: number;
  cmdline: string;
}

export function hostProcesses(): HostProcess[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [
          { pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim() },
        ];
      } catch {
        return []; // exited while we looked
      }
    });
}

/** Processes whose command line holds `marker`. */
export function processesWith(marker: string): HostProcess[] {
  return hostProcesses().filter((p) => p.cmdline.includes(marker) && p.pid !== process.pid);
}

/** Polls `check` until it is false or `withinMs` has passed; returns its last value. */
async function stillTrue(check: () => boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (check()) {
    if (Date.now() > deadline) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}

/**
 * Processes with `marker` still there `withinMs` after the answer: the engine answers once every
 * process of the execution has been sent SIGKILL; the kernel reaps them, and the engine removes
 * the cgroup and working files, moments later.
 */
export async function survivors(marker: string, withinMs = 2000): Promise<HostProcess[]> {
  await stillTrue(() => processesWith(marker).length > 0, withinMs);
  return processesWith(marker);
}

/** True if `path` still exists `withinMs` after the answer (see survivors()). */
export function lingers(path: string, withinMs = 2000): Promise<boolean> {
  return stillTrue(() => existsSync(path), withinMs);
}
