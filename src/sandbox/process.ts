/**
 * One execution's process tree and its channel to the engine.
 *
 * Starting a sandbox (`SandboxLauncher.start`, which waits for nothing the program does) and
 * handing it a job (`send`) are separate steps, so a pool can start sandboxes ahead of requests.
 * This class only runs a process tree: what the tree is (a plain child, or the wrapper that
 * starts bubblewrap inside a cgroup) is the launcher's choice, passed in as a SpawnPlan.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import type { Writable } from "node:stream";

import type { Socket } from "node:net";

import { encodeFrame } from "../contract/protocol/framing.ts";
import type { EngineMessage } from "../contract/protocol/messages.ts";
import { ChannelReader, type ChannelFault, type SandboxHandlers } from "./channel.ts";
import { BoundedOutput, outputPolled, printedTooMuch } from "./output.ts";
import type { ExitInfo, Sandbox, SandboxLimits, TrippedLimit } from "./sandbox.ts";

export type { ChannelFault, SandboxHandlers };

const EXIT_DRAIN_GRACE_MS = 250;
/** fd 3 is the protocol channel; the plan's inputs follow from fd 4 on. */
export const FIRST_INPUT_FD = 4;

/** What a runtime asks to run; the launcher decides how it is confined. */
export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** The whole environment of the process: nothing of the engine's own is inherited. */
  env: Record<string, string>;
  /**
   * Host paths the runtime reads (its interpreter's prefix, its harness), bound read-only at the
   * same place inside the sandbox. /usr is always there; nothing else of the host is.
   */
  readOnlyPaths?: string[];
}

/** How to start the tree. */
export interface SpawnPlan {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Bytes for fds 4, 5...: each a pipe the engine fills and closes (bwrap reads its arguments and seccomp filter so). */
  inputs: Buffer[];
  /** The leader reports its child's death by signal n as exit code 128+n (bwrap does). */
  signalInExitCode: boolean;
}

/** What the launcher attached to the tree beyond the process itself (its cgroup, its rlimits). */
export interface Confinement {
  /** The limit the tree ran into, if any; `exit` when the tree has exited. */
  tripped(exit: { code: number | null; signal: NodeJS.Signals | null } | null): Promise<TrippedLimit | null>;
  /** Waits until no process of the tree is left and removes what held it (the cgroup). Idempotent. */
  release(): Promise<void>;
  /** The tree's cgroup directories (empty without one), for inspection. */
  readonly cgroupDirs: string[];
}

const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

export class SandboxProcess implements Sandbox {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly output: BoundedOutput;
  private killed = false;

  private constructor(
    plan: SpawnPlan,
    private readonly limits: SandboxLimits,
    handlers: SandboxHandlers,
    private readonly confinement: Confinement | null,
  ) {
    this.output = new BoundedOutput(limits.maxLogBytes, limits.maxLogTotalBytes, (bytes) =>
      handlers.onFault(printedTooMuch(bytes)),
    );
    this.child = spawn(plan.command, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      // fd 3 is the protocol channel (a socketpair, so it carries both directions).
      stdio: ["ignore", "pipe", "pipe", "pipe", ...plan.inputs.map(() => "pipe" as const)],
      // A new session and process group: the whole tree can be killed with one signal.
      detached: true,
    });
    plan.inputs.forEach((data, i) => {
      const input = this.child.stdio[FIRST_INPUT_FD + i] as Writable | null;
      input?.on("error", () => undefined);
      input?.end(data);
    });
    // 'exit' can come before the last frames on the channel are read; wait for the channel to
    // drain (or a short grace, since a leftover grandchild may hold it open) before reporting.
    const channelClosed = new Promise<void>((resolveClosed) =>
      this.child.stdio[3]?.once("close", () => resolveClosed()),
    );
    this.exited = new Promise((resolveExit) => {
      this.child.once("exit", (rawCode, rawSignal) => {
        const { code, signal } = plan.signalInExitCode
          ? decodeSignal(rawCode, rawSignal)
          : { code: rawCode, signal: rawSignal };
        const grace = new Promise<void>((r) => setTimeout(r, EXIT_DRAIN_GRACE_MS).unref());
        Promise.race([channelClosed, grace])
          .then(async () => (this.confinement ? this.confinement.tripped({ code, signal }) : null))
          .catch(() => null)
          .then(
            (limit) => resolveExit({ code, signal, limit }),
            () => resolveExit({ code, signal, limit: null }),
          );
      });
      this.child.once("error", () => resolveExit({ code: null, signal: null, limit: null }));
    });
    this.child.stdout?.on("data", (chunk: Buffer) => this.output.add(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => this.output.add(chunk));
    this.listen(handlers);
  }

  /** Starts the tree a launcher planned; `confinement` is released when the tree is destroyed. */
  static spawn(
    plan: SpawnPlan,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
    confinement: Confinement | null,
  ): SandboxProcess {
    return new SandboxProcess(plan, limits, handlers, confinement);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The tree's cgroup directories (empty when it has none). */
  get cgroupDirs(): string[] {
    return this.confinement?.cgroupDirs ?? [];
  }

  send(message: EngineMessage): void {
    (this.child.stdio[3] as Writable | null)?.write(encodeFrame(message));
  }

  /** The program's prints so far, cut at the configured size with a note saying how much was dropped. */
  logs(): string {
    return this.output.text();
  }

  /** Resolves once what the program had printed when this was called has been read into `logs()`. */
  outputRead(): Promise<void> {
    return outputPolled();
  }

  /** The sandbox limit the program has run into so far, if any (a fork that failed at the process limit...). */
  async trippedLimit(): Promise<TrippedLimit | null> {
    return this.confinement ? this.confinement.tripped(null).catch(() => null) : null;
  }

  /** Kills the whole process tree now. Idempotent. */
  kill(): void {
    if (this.killed || this.child.pid === undefined) return;
    this.killed = true;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }

  /** Kills the tree, waits until its leader has exited and nothing of it is left, releases its cgroup. */
  async destroy(): Promise<ExitInfo> {
    this.kill();
    const exit = await this.exited;
    await this.confinement?.release();
    return exit;
  }

  private listen(handlers: SandboxHandlers): void {
    const channel = this.child.stdio[3] as Socket | null;
    if (channel) new ChannelReader(channel, this.limits.maxFrameBytes, handlers);
  }
}

/**
 * bwrap exits with 128+n when the program died of signal n (as shells do). A program can also
 * exit with such a code on purpose; it then only changes how its own failure is labelled.
 */
function decodeSignal(
  code: number | null,
  signal: NodeJS.Signals | null,
): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal !== null || code === null || code <= 128) return { code, signal };
  const name = SIGNAL_NAMES.get(code - 128);
  return name ? { code: null, signal: name } : { code, signal };
}
