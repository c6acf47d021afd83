/**
 * One forked child of the zygote, as the engine sees it: a Sandbox (sandbox/sandbox.ts), like a
 * fresh SandboxProcess, so an execution runs on either without knowing which.
 *
 * Node cannot hand file descriptors to a process that is already running, so a child reaches the
 * engine the other way round: the engine listens on a Unix socket of the job's own, in a directory
 * the zygote holds open (fd 10: forkserver-zygote.ts ZYGOTE_JOBS_FD), and the child connects three times
 * (protocol channel, stdout, stderr), each connection opening with `<token> <role>\n`. The token
 * is random per job and only ever sent in the zygote's `fork` message. Exactly one connection per
 * role is accepted; then the socket is closed and removed, and the child closes the directory
 * before the program runs.
 */
import { chmod, chown, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { constants } from "node:os";
import { timingSafeEqual } from "node:crypto";

import { encodeFrame } from "../../contract/protocol/framing.ts";
import type { EngineMessage, SetupMessage } from "../../contract/protocol/messages.ts";
import { ChannelReader } from "../../sandbox/channel.ts";
import type { ExecutionCgroup } from "../../sandbox/cgroup.ts";
import type { ChildExit } from "./forkserver-zygote.ts";
import { cgroupMembers, procStatus } from "./forkserver-procfs.ts";
import { BoundedOutput, outputPolled, printedTooMuch } from "../../sandbox/output.ts";
import {
  trippedLimit,
  type ExitInfo,
  type LimitWords,
  type Sandbox,
  type SandboxHandlers,
  type SandboxLimits,
  type TrippedLimit,
} from "../../sandbox/sandbox.ts";

const EXIT_DRAIN_GRACE_MS = 250;
const MAX_HANDSHAKE_BYTES = 256;
const SIGNAL_NAMES = new Map(
  Object.entries(constants.signals).map(([name, number]) => [number, name as NodeJS.Signals]),
);

type Role = "channel" | "stdout" | "stderr";
const ROLES: readonly Role[] = ["channel", "stdout", "stderr"];

/** The per-job socket: accepts the child's three connections and nothing else. */
export class JobSockets {
  private readonly connections = new Map<Role, Socket>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly server: Server,
    private readonly token: Buffer,
    private readonly onConnection: (role: Role, socket: Socket, rest: Buffer) => void,
  ) {
    server.on("connection", (socket) => this.handshake(socket));
  }

  /**
   * Listens at `path` (mode 0600, owned by `owner` when given: the sandbox's host uid).
   * `onConnection` gets each accepted connection with the bytes that followed its first line.
   */
  static async listen(
    path: string,
    token: string,
    owner: number | null,
    onConnection: (role: Role, socket: Socket, rest: Buffer) => void,
  ): Promise<JobSockets> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    const sockets = new JobSockets(path, server, Buffer.from(token), onConnection);
    try {
      await chmod(path, 0o600);
      if (owner !== null) await chown(path, owner, owner);
    } catch (err: unknown) {
      await sockets.close();
      throw err;
    }
    return sockets;
  }

  /** Stops listening and removes the socket file; accepted connections stay open. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }

  /** Closes the listener and every connection. */
  async destroy(): Promise<void> {
    for (const socket of this.connections.values()) socket.destroy();
    await this.close();
  }

  private handshake(socket: Socket): void {
    let buffered = Buffer.alloc(0);
    const refuse = (): void => {
      socket.destroy();
    };
    socket.on("error", () => undefined);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf(0x0a);
      if (end === -1) {
        if (buffered.length > MAX_HANDSHAKE_BYTES) refuse();
        return;
      }
      socket.off("data", onData);
      socket.pause();
      const [token = "", role = ""] = buffered.subarray(0, end).toString("utf8").split(" ");
      const given = Buffer.from(token);
      const tokenOk = given.length === this.token.length && timingSafeEqual(given, this.token);
      if (!tokenOk || !ROLES.includes(role as Role) || this.connections.has(role as Role) || this.closed)
        return refuse();
      this.connections.set(role as Role, socket);
      this.onConnection(role as Role, socket, buffered.subarray(end + 1));
      socket.resume();
      if (this.connections.size === ROLES.length) this.close().catch(() => undefined);
    };
    socket.on("data", onData);
  }
}

export class ForkedSandbox implements Sandbox {
  readonly exited: Promise<ExitInfo>;
  private resolveExit!: (exit: ExitInfo) => void;
  private channel: Socket | null = null;
  private readonly pending: Buffer[] = [];
  private readonly channelClosed: Promise<void>;
  private resolveChannelClosed!: () => void;
  private readonly output: BoundedOutput;
  private hostPid: number | null = null;
  private killed = false;
  private reaped = false;
  private sockets: JobSockets | null = null;

  constructor(
    /** The job id: also the name of its cgroup (`graphbox-<id>`) and socket (`<id>.sock`). */
    readonly jobId: string,
    private readonly cgroup: ExecutionCgroup,
    private readonly limits: SandboxLimits,
    private readonly handlers: SandboxHandlers,
    private readonly setup: SetupMessage,
    private readonly words: LimitWords,
  ) {
    this.output = new BoundedOutput(limits.maxLogBytes, limits.maxLogTotalBytes, (bytes) =>
      this.handlers.onFault(printedTooMuch(bytes)),
    );
    this.channelClosed = new Promise((resolve) => (this.resolveChannelClosed = resolve));
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  /** The child's host pid (C, the zygote's direct child), once it is known. */
  get pid(): number | undefined {
    return this.hostPid ?? undefined;
  }

  /** The child's cgroup directories, for inspection. */
  get cgroupDirs(): string[] {
    return this.cgroup.paths;
  }

  /** Peak memory charged to the child's cgroup so far, bytes (its own pages: the zygote's shared ones are charged to the zygote). */
  peakMemoryBytes(): Promise<number> {
    return this.cgroup.peakMemoryBytes();
  }

  /** Set by the fork server: the socket the child connects to, and the child's host pid. */
  attachSockets(sockets: JobSockets): void {
    this.sockets = sockets;
  }

  attachPid(hostPid: number): void {
    this.hostPid = hostPid;
    if (this.killed) this.killTree();
  }

  /** A connection the job socket accepted. */
  connected(role: Role, socket: Socket, rest: Buffer): void {
    if (role === "channel") {
      this.channel = socket;
      socket.once("close", () => this.resolveChannelClosed());
      this.listen(socket, rest);
      socket.write(encodeFrame(this.setup));
      for (const frame of this.pending.splice(0)) socket.write(frame);
      return;
    }
    if (rest.length > 0) this.output.add(rest);
    socket.on("data", (chunk: Buffer) => this.output.add(chunk));
  }

  /** Called once the zygote has reaped the child (or died). */
  onExit(exit: ChildExit): void {
    if (this.reaped) return;
    this.reaped = true;
    const signal = exit.signal === null ? null : (SIGNAL_NAMES.get(exit.signal) ?? null);
    const code = exit.signal !== null && signal !== null ? null : exit.code;
    // As with SandboxProcess: let the channel drain, or give up after a short grace (a socket
    // that never connected never closes).
    const grace = new Promise<void>((r) => setTimeout(r, EXIT_DRAIN_GRACE_MS).unref());
    Promise.race([this.channelClosed, grace])
      .then(() => this.tripped({ code, signal }))
      .catch(() => null)
      .then(
        (limit) => this.resolveExit({ code, signal, limit }),
        () => this.resolveExit({ code, signal, limit: null }),
      );
  }

  send(message: EngineMessage): void {
    const frame = encodeFrame(message);
    if (this.channel) this.channel.write(frame);
    else this.pending.push(frame);
  }

  /** The program's prints so far, cut at the configured size with a note saying how much was dropped. */
  logs(): string {
    return this.output.text();
  }

  /** Resolves once what the program had printed when this was called has been read into `logs()`. */
  outputRead(): Promise<void> {
    return outputPolled();
  }

  /** The sandbox limit the program has run into so far, if any. */
  async trippedLimit(): Promise<TrippedLimit | null> {
    return this.tripped(null).catch(() => null);
  }

  /** Kills the child's whole tree now. Idempotent. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.killTree();
  }

  /** Kills the tree, waits until the zygote has reaped it, removes its cgroup and socket. */
  async destroy(): Promise<ExitInfo> {
    this.kill();
    const exit = await this.exited;
    await this.cgroup.remove();
    await this.sockets?.destroy();
    return exit;
  }

  /**
   * SIGKILL to the namespace's init first (its death ends every process of the namespace at once,
   * and no new one can start there), then to every process left in the job's cgroup, C included.
   */
  private killTree(): void {
    const members = cgroupMembers(this.cgroup.procsFiles[0]!);
    const init = members.filter((pid) => {
      const nspid = procStatus(pid)?.nspid ?? [];
      return nspid.length >= 3 && nspid[nspid.length - 1] === 1;
    });
    for (const pid of [...init, ...members, ...(this.hostPid === null ? [] : [this.hostPid])]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }

  private async tripped(
    exit: { code: number | null; signal: NodeJS.Signals | null } | null,
  ): Promise<TrippedLimit | null> {
    return trippedLimit(await this.cgroup.tripped(), exit?.signal, this.words);
  }

  private listen(socket: Socket, first: Buffer): void {
    const reader = new ChannelReader(socket, this.limits.maxFrameBytes, this.handlers);
    if (first.length > 0) reader.take(first);
  }
}
