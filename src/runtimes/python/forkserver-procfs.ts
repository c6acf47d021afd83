/**
 * Host pids of processes in the zygote's PID namespace, found through /proc.
 *
 * The zygote only knows its children by the pids of its own namespace, and the engine needs the
 * host pid to put a child in its cgroup and to kill it. /proc/<pid>/task/<tid>/children would
 * give a process's children directly, but it needs CONFIG_PROC_CHILDREN, which kernels like this
 * one's lack. So the candidates come from a cgroup's member list (the zygote's own cgroup holds
 * only bwrap's init, the zygote and the children not yet released), and each candidate's
 * `NSpid:` line (host pid first, innermost namespace's last) says which one it is.
 */
import { readFileSync } from "node:fs";

export interface ProcStatus {
  pid: number;
  ppid: number;
  /** The pid in each PID namespace the process is in, outermost (host) first. */
  nspid: number[];
}

/** /proc/<pid>/status, or null when the process is gone. */
export function procStatus(pid: number): ProcStatus | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return null;
  }
  const ppid = /^PPid:\s*(\d+)$/m.exec(text)?.[1];
  const nspid = /^NSpid:\s*([\d\s]+)$/m.exec(text)?.[1];
  if (ppid === undefined || nspid === undefined) return null;
  return { pid, ppid: Number(ppid), nspid: nspid.trim().split(/\s+/).map(Number) };
}

/** The pids listed in a cgroup.procs file (empty when it is gone). */
export function cgroupMembers(procsFile: string): number[] {
  try {
    return readFileSync(procsFile, "utf8").split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The host pid of the candidate that is `pidInNs` in a nested PID namespace (and, when `parent`
 * is given, a child of that host pid), or null.
 */
export function hostPidOf(candidates: number[], pidInNs: number, parent: number | null = null): number | null {
  for (const pid of candidates) {
    const status = procStatus(pid);
    if (!status || status.nspid.length < 2 || status.nspid[status.nspid.length - 1] !== pidInNs) continue;
    if (parent === null || status.ppid === parent) return pid;
  }
  return null;
}

/** RSS and PSS of one process, bytes (smaps_rollup), for the benchmark and the report. */
export function processMemory(pid: number): { rssBytes: number; pssBytes: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+) kB$`, "m").exec(text)?.[1] ?? 0) * 1024;
    return { rssBytes: kb("Rss"), pssBytes: kb("Pss") };
  } catch {
    return null;
  }
}
