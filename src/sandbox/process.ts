/**
 * One execution's process tree and its channel to the engine.
 *
 * Starting a sandbox (`SandboxProcess.start`, which waits for nothing) and handing it a job
 * (`send`) are separate steps, so a pool can start sandboxes ahead of requests. This first
 * version runs a plain child process in a new session with a clean environment; the isolation
 * (namespaces, seccomp, cgroups) wraps the same interface.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";

import { encodeFrame, FrameDecoder, FrameTooLargeError } from "../protocol/framing.ts";
import { parseHarnessMessage, ProtocolError, type EngineMessage, type HarnessMessage } from "../protocol/messages.ts";

const EXIT_DRAIN_GRACE_MS = 250;

export interface LaunchSpec {
  command: string;
  args: string[];
  cwd: string;
  /** The whole environment of the process: nothing of the engine's own is inherited. */
  env: Record<string, string>;
}

export interface SandboxLimits {
  /** Bytes of the program's stdout and stderr kept; the rest is counted and dropped. */
  maxLogBytes: number;
  /** Largest frame the harness may send. */
  maxFrameBytes: number;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Why the channel broke: the harness sent something the engine refuses. */
export type ChannelFault = { kind: "output_limit"; message: string } | { kind: "protocol"; message: string };

export interface SandboxHandlers {
  onMessage(message: HarnessMessage): void;
  onFault(fault: ChannelFault): void;
}

export class SandboxProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly logChunks: Buffer[] = [];
  private logBytes = 0;
  private droppedLogBytes = 0;
  private killed = false;

  private constructor(spec: LaunchSpec, private readonly limits: SandboxLimits, handlers: SandboxHandlers) {
    this.child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      // fd 3 is the protocol channel (a socketpair, so it carries both directions).
      stdio: ["ignore", "pipe", "pipe", "pipe"],
      // A new session and process group: the whole tree can be killed with one signal.
      detached: true,
    });
    // 'exit' can come before the last frames on the channel are read; wait for the channel to
    // drain (or a short grace, since a leftover grandchild may hold it open) before reporting.
    const channelClosed = new Promise<void>((resolveClosed) => this.child.stdio[3]?.once("close", () => resolveClosed()));
    this.exited = new Promise((resolveExit) => {
      this.child.once("exit", (code, signal) => {
        const grace = new Promise<void>((r) => setTimeout(r, EXIT_DRAIN_GRACE_MS).unref());
        void Promise.race([channelClosed, grace]).then(() => resolveExit({ code, signal }));
      });
      this.child.once("error", () => resolveExit({ code: null, signal: null }));
    });
    this.child.stdout?.on("data", (chunk: Buffer) => this.keepLog(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => this.keepLog(chunk));
    this.listen(handlers);
  }

  static start(spec: LaunchSpec, limits: SandboxLimits, handlers: SandboxHandlers): SandboxProcess {
    return new SandboxProcess(spec, limits, handlers);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(message: EngineMessage): void {
    (this.child.stdio[3] as Writable | null)?.write(encodeFrame(message));
  }

  /** The program's prints so far, cut at the configured size with a note saying how much was dropped. */
  logs(): string {
    const text = Buffer.concat(this.logChunks).toString("utf8");
    return this.droppedLogBytes > 0 ? `${text}\n[graphbox: ${this.droppedLogBytes} more bytes of output dropped]` : text;
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

  /** Kills the tree and waits until its leader has exited. */
  async destroy(): Promise<ExitInfo> {
    this.kill();
    return this.exited;
  }

  private keepLog(chunk: Buffer): void {
    const room = this.limits.maxLogBytes - this.logBytes;
    if (room > 0) {
      const kept = chunk.subarray(0, room);
      this.logChunks.push(kept);
      this.logBytes += kept.length;
    }
    this.droppedLogBytes += Math.max(0, chunk.length - Math.max(room, 0));
  }

  private listen(handlers: SandboxHandlers): void {
    const channel = this.child.stdio[3] as Readable | null;
    if (!channel) return;
    const decoder = new FrameDecoder(this.limits.maxFrameBytes);
    let broken = false;
    channel.on("data", (chunk: Buffer) => {
      if (broken) return;
      try {
        for (const frame of decoder.push(chunk)) handlers.onMessage(parseHarnessMessage(frame));
      } catch (err: unknown) {
        broken = true;
        if (err instanceof FrameTooLargeError) handlers.onFault({ kind: "output_limit", message: err.message });
        else if (err instanceof ProtocolError) handlers.onFault({ kind: "protocol", message: err.message });
        else throw err;
      }
    });
    // The channel may error when the process dies mid-write; the exit handler reports that.
    channel.on("error", () => undefined);
  }
}
