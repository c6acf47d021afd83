/**
 * A sandbox as an execution uses it, whatever made it: a fresh process tree (process.ts), a child
 * forked from the Python fork server's zygote (runtimes/python/forkserver-child.ts), or one of
 * those pre-started and handed over by a pool (supply/pool.ts). The harness inside says `ready`
 * on its own; the execution then sends it the job and reads its messages through the handlers
 * it was given when the sandbox was acquired.
 */
import type { EngineMessage } from "../contract/protocol/messages.ts";

export type { ChannelFault, SandboxHandlers } from "./channel.ts";

export interface SandboxLimits {
  /** Bytes of the program's stdout and stderr kept; the rest is counted and dropped. */
  maxLogBytes: number;
  /** Bytes of stdout and stderr the program may print in all; past it the channel faults with output_limit. Default: no limit. */
  maxLogTotalBytes?: number;
  /** Largest frame the harness may send. */
  maxFrameBytes: number;
}

/** A limit of the sandbox the program ran into: `memory` (cgroup OOM kill), or one of the others. */
export interface TrippedLimit {
  kind: "memory" | "processes" | "cpu_time" | "file_size";
  message: string;
}

/** How a host confines each tree: the launcher's options, and what the doctor checks against. */
export interface SandboxOptions {
  /** Memory of one execution's tree (cgroup), bytes. */
  memoryBytes: number;
  /** Processes and threads at once (cgroup pids). */
  maxProcesses: number;
  /** CPU seconds per process (RLIMIT_CPU; SIGXCPU, then SIGKILL a second later). */
  cpuSeconds: number;
  /** Largest file (RLIMIT_FSIZE), bytes. */
  fileSizeBytes: number;
  /** Size of the sandbox's /tmp tmpfs, bytes. */
  tmpSizeBytes: number;
  /** Open files per process (RLIMIT_NOFILE). */
  openFiles: number;
  /** No isolation at all: programs run as plain child processes. */
  unsafeNoSandbox: boolean;
  /** Host path of the engine's gateway socket; bound at /run/graphbox/gateway.sock inside (see `useGateway`). */
  gatewaySocket?: string;
}

/** The limits a tree runs under, as the message of the one it trips names them. */
export interface LimitWords {
  memoryBytes: number;
  maxProcesses: number;
  cpuSeconds: number;
  fileSizeBytes: number;
}

const MIB = 1024 * 1024;

/**
 * The limit a tree ran into, from its cgroup (an OOM kill, a refused fork) or the signal that
 * ended it (RLIMIT_CPU's SIGXCPU, RLIMIT_FSIZE's SIGXFSZ); null when none did. Every kind of
 * sandbox words it the same.
 */
export function trippedLimit(
  cgroupTrip: "memory" | "processes" | null | undefined,
  signal: NodeJS.Signals | null | undefined,
  limits: LimitWords,
): TrippedLimit | null {
  if (cgroupTrip === "memory")
    return {
      kind: "memory",
      message: `the program went over its memory limit of ${limits.memoryBytes / MIB} MiB and was killed`,
    };
  if (cgroupTrip === "processes")
    return {
      kind: "processes",
      message: `the program tried to run more than ${limits.maxProcesses} processes and threads at once`,
    };
  if (signal === "SIGXCPU")
    return {
      kind: "cpu_time",
      message: `the program used more than ${limits.cpuSeconds} s of CPU time and was killed`,
    };
  if (signal === "SIGXFSZ")
    return {
      kind: "file_size",
      message: `the program wrote past its file size limit of ${limits.fileSizeBytes / MIB} MiB and was killed`,
    };
  return null;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The sandbox limit that ended the tree, when one did. */
  limit: TrippedLimit | null;
}

export interface Sandbox {
  /** Resolves once the program's tree has exited and its channel has drained (or a short grace has passed). */
  readonly exited: Promise<ExitInfo>;
  /** The tree's cgroup directories (empty when it has none), for inspection and the pools' memory accounting. */
  readonly cgroupDirs: string[];
  /** Writes one message to the harness (a job, an answer to its request). */
  send(message: EngineMessage): void;
  /** The program's prints so far, cut at the configured size with a note saying how much was dropped. */
  logs(): string;
  /** Resolves once what the program had printed when this was called has been read into `logs()`. */
  outputRead(): Promise<void>;
  /** The sandbox limit the program has run into so far, if any (a fork refused at the process limit...). */
  trippedLimit(): Promise<TrippedLimit | null>;
  /** Kills the whole tree now. Idempotent. */
  kill(): void;
  /** Kills the tree, waits until nothing of it is left, and removes what it held (cgroup, sockets, files). */
  destroy(): Promise<ExitInfo>;
}
