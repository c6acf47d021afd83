/** The host's processes, seen from the test (to check that nothing of a sandbox survives it). */
import { readdirSync, readFileSync } from "node:fs";

export interface HostProcess {
  pid: number;
  cmdline: string;
}

export function hostProcesses(): HostProcess[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        return [{ pid: Number(pid), cmdline: readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim() }];
      } catch {
        return []; // exited while we looked
      }
    });
}

/** Processes whose command line holds `marker`. */
export function processesWith(marker: string): HostProcess[] {
  return hostProcesses().filter((p) => p.cmdline.includes(marker) && p.pid !== process.pid);
}
