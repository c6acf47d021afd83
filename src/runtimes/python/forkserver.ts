/**
 * The fork server: Python executions forked from a zygote that has already imported LangGraph,
 * each in a sandbox of its own, instead of a fresh interpreter per execution (1.2–1.6 s of CPU).
 *
 * What each execution still gets, as on the fresh-process path: its own process tree and mount,
 * PID, network, IPC, UTS and cgroup namespaces; its own size-capped /tmp (and /dev/shm, /proc,
 * devpts); its own cgroup (memory, pids), created here and joined before the program's first
 * instruction; rlimits (CPU seconds, file size, open files, no core); no capabilities;
 * no_new_privs; the execution seccomp filter; an environment of its own, sent to it directly.
 * What it shares with its siblings: the zygote's user namespace (one uid mapping), the read-only
 * files of the zygote's sandbox, and the zygote's memory pages, copy-on-write. The zygote itself
 * never runs program code and never holds tenant data or secrets.
 *
 *   const server = new ForkServer({ ...config.sandbox, pythonPath: config.pythonPath });
 *   await server.useGateway(gateway.socketPath);   // before start: the socket is bound into the zygote
 *   await server.start();
 *   const sandbox = await server.spawn(runtime.launch(config, workDir, env), limits, handlers);
 *   // then exactly as with SandboxLauncher.start(): wait for `ready`, send the job, ... destroy().
 */
import { randomBytes, randomUUID } from "node:crypto";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { PROTOCOL_VERSION, type ForkLimits } from "../../contract/protocol/messages.ts";
import { SANDBOX_GATEWAY_SOCKET, SANDBOX_UID, sandboxView, type SandboxSpec } from "../../sandbox/bwrap.ts";
import { detectCgroups, ExecutionCgroup, type CgroupSupport } from "../../sandbox/cgroup.ts";
import { ForkedSandbox, JobSockets } from "./forkserver-child.ts";
import { processMemory } from "./forkserver-procfs.ts";
import { ZygoteProcess, type ZygoteSettings } from "./forkserver-zygote.ts";
import { lockGatewaySocket, SandboxUnavailableError, type SandboxOptions } from "../../sandbox/launcher.ts";
import type { SandboxHandlers, SandboxLimits } from "../../sandbox/sandbox.ts";
import { nativeSeccompArch, seccompProgram } from "../../sandbox/seccomp.ts";
import { ENGINE_IS_ROOT, missingTools } from "../../sandbox/tools.ts";

export { ForkedSandbox } from "./forkserver-child.ts";

const FORK_TIMEOUT_MS = 10_000;

export interface ForkServerOptions extends Omit<SandboxOptions, "unsafeNoSandbox"> {
  /** The runtime's Python (config.pythonPath): its virtual environment is bound read-only into the zygote. */
  pythonPath: string;
  /** Children a zygote forks before a fresh one replaces it. Default 500. */
  forksPerZygote?: number;
  /** Time the zygote may take to import LangGraph and say ready, ms. Default 30 000. */
  startupTimeoutMs?: number;
  /** Memory cap of the zygote's own cgroup (the zygote and children not yet released), bytes. Default 1 GiB. */
  zygoteMemoryBytes?: number;
  /** Process cap of the zygote's own cgroup. Default 1024. */
  zygoteMaxProcesses?: number;
  /** The LLM clients' base URLs in the children's environment: their HTTP clients are built once, in the zygote. */
  llmBaseUrls?: { openai: string; anthropic: string };
  /** The operator's modules the zygote imports once, for its children (GRAPHBOX_PYTHON_PREIMPORT). */
  preimport?: readonly string[];
}

export interface ZygoteInfo {
  hostPid: number;
  cgroupDirs: string[];
  forks: number;
  running: number;
  versions: Record<string, string>;
  rssBytes: number;
  pssBytes: number;
}

export class ForkServer {
  private readonly cgroups: CgroupSupport;
  private readonly settings: ZygoteSettings;
  private readonly forksPerZygote: number;
  /** The zygote new children are forked from. */
  private current: ZygoteProcess | null = null;
  /** A zygote being started (the first, a replacement after N forks, or after a death). */
  private starting: Promise<ZygoteProcess> | null = null;
  /** Replaced zygotes, kept until their last child is reaped (their children die with them). */
  private readonly retiring = new Set<ZygoteProcess>();
  private readonly live = new Set<ForkedSandbox>();
  private closed = false;
  /** The host uid the sandboxes run as: it owns the job sockets. */
  private readonly sandboxHostUid: number | null = ENGINE_IS_ROOT ? SANDBOX_UID : null;

  constructor(private options: ForkServerOptions) {
    this.cgroups = detectCgroups();
    this.forksPerZygote = options.forksPerZygote ?? 500;
    const arch = nativeSeccompArch();
    const missing = missingTools();
    if (missing.length > 0) throw new SandboxUnavailableError(`the fork server needs ${missing.join(", ")}`);
    if (!arch)
      throw new SandboxUnavailableError(`no seccomp filter for ${process.arch}; only x86_64 and aarch64 are supported`);
    if (this.cgroups.version === null)
      throw new SandboxUnavailableError(`the fork server needs cgroups for its children: ${this.cgroups.reason}`);
    const jobsDir = mkdtempSync(join(tmpdir(), "graphbox-jobs-"));
    // 0700 and owned by the sandbox's uid: only the engine (root) and the zygote's sandbox can enter it.
    if (this.sandboxHostUid !== null) chownSync(jobsDir, this.sandboxHostUid, this.sandboxHostUid);
    this.settings = {
      pythonPath: options.pythonPath,
      gatewaySocket: options.gatewaySocket,
      jobsDir,
      executionSeccomp: seccompProgram(arch),
      // The zygote may also mount, unshare and capset (its children's namespaces); every child installs the execution filter.
      zygoteSeccomp: seccompProgram(arch, "zygote"),
      cgroups: this.cgroups,
      memoryBytes: options.zygoteMemoryBytes ?? 1024 * 1024 * 1024,
      maxProcesses: options.zygoteMaxProcesses ?? 1024,
      startupTimeoutMs: options.startupTimeoutMs ?? 30_000,
      ...(options.llmBaseUrls ? { llmBaseUrls: options.llmBaseUrls } : {}),
      preimport: options.preimport ?? [],
    };
  }

  /**
   * Binds the gateway's Unix socket into the children (at /run/graphbox/gateway.sock, as
   * GRAPHBOX_GATEWAY_SOCKET), as SandboxLauncher.useGateway does: the socket is bound into the
   * zygote's sandbox when it starts, so a zygote already running is replaced. Call it before
   * start() to avoid that. Root engine: the directory stays 0700 root, the socket goes to group 65534
   * (0660), and root binds it into the zygote's sandbox (launcher.ts lockGatewaySocket).
   */
  async useGateway(socketPath: string): Promise<void> {
    if (ENGINE_IS_ROOT) await lockGatewaySocket(socketPath);
    if (this.settings.gatewaySocket === socketPath) return;
    this.settings.gatewaySocket = socketPath;
    this.options = { ...this.options, gatewaySocket: socketPath };
    if (this.current) await this.replacement();
  }

  /** Starts the zygote and waits until it has imported LangGraph (1–2 s). Idempotent. */
  async start(): Promise<void> {
    await this.zygote();
  }

  /**
   * Replaces the zygote with a fresh one (the runtime's files changed): the current one keeps
   * forking until its successor is ready, then retires once its last child is reaped.
   */
  async restart(): Promise<void> {
    if (this.closed) return;
    await this.replacement();
  }

  /** Children started and not yet destroyed. */
  get running(): number {
    return this.live.size;
  }

  /** The host directory of the per-job sockets (empty between jobs). */
  get jobsDir(): string {
    return this.settings.jobsDir;
  }

  /** The current zygote, for the benchmark and tests: its host pid, forks, memory. */
  zygoteInfo(): ZygoteInfo | null {
    const z = this.current;
    if (!z) return null;
    const memory = processMemory(z.hostPid) ?? { rssBytes: 0, pssBytes: 0 };
    return {
      hostPid: z.hostPid,
      cgroupDirs: z.cgroupDirs,
      forks: z.forks,
      running: z.running,
      versions: z.versions,
      ...memory,
    };
  }

  /**
   * Forks a sandboxed child for one execution and returns once it is in its cgroup and running;
   * like SandboxLauncher.start, it does not wait for `ready`. `spec` is what the Python runtime
   * asks for (runtime.launch): its `env` and `cwd` are sent to the child directly; its command is
   * the zygote's already. Throws SandboxUnavailableError when the zygote cannot start.
   */
  async spawn(spec: SandboxSpec, limits: SandboxLimits, handlers: SandboxHandlers): Promise<ForkedSandbox> {
    const zygote = await this.zygote();
    try {
      return await this.spawnOn(zygote, spec, limits, handlers);
    } catch (err: unknown) {
      // The zygote died under this fork (it is being replaced): one more try, on its successor.
      if (zygote.alive || this.closed) throw err;
      return this.spawnOn(await this.zygote(), spec, limits, handlers);
    }
  }

  private async spawnOn(
    zygote: ZygoteProcess,
    spec: SandboxSpec,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
  ): Promise<ForkedSandbox> {
    const o = this.options;
    const jobId = randomUUID();
    const token = randomBytes(32).toString("base64url");
    // As on the fresh path: no host path in the child's environment, its working directory SANDBOX_WORKDIR in its own /tmp.
    const { env, cwd } = sandboxView(spec);
    if (o.gatewaySocket) env["GRAPHBOX_GATEWAY_SOCKET"] = SANDBOX_GATEWAY_SOCKET;
    const cgroup = await ExecutionCgroup.create(this.cgroups, `graphbox-${jobId}`, {
      memoryBytes: o.memoryBytes,
      maxProcesses: o.maxProcesses,
    });
    const sandbox = new ForkedSandbox(
      jobId,
      cgroup,
      limits,
      handlers,
      { v: PROTOCOL_VERSION, type: "setup", env, cwd },
      o,
    );
    let forked = false;
    try {
      sandbox.attachSockets(
        await JobSockets.listen(
          join(this.settings.jobsDir, `${jobId}.sock`),
          token,
          this.sandboxHostUid,
          (role, socket, rest) => sandbox.connected(role, socket, rest),
        ),
      );
      const forkLimits: ForkLimits = {
        cpu_seconds: o.cpuSeconds,
        file_size_bytes: o.fileSizeBytes,
        open_files: o.openFiles,
        tmp_size_bytes: o.tmpSizeBytes,
      };
      const pidInNs = await withTimeout(
        zygote.fork(jobId, token, forkLimits, (exit) => sandbox.onExit(exit)),
        FORK_TIMEOUT_MS,
        "the zygote did not fork in time",
      );
      forked = true;
      const hostPid = zygote.childHostPid(pidInNs);
      if (hostPid === null)
        throw new Error(`the forked child (pid ${pidInNs} in the zygote) was not found on the host`);
      sandbox.attachPid(hostPid);
      // The child waits, blocked, until it is in its cgroup: nothing of the job has run yet.
      for (const file of cgroup.procsFiles) await writeFile(file, String(hostPid));
      zygote.release(jobId);
    } catch (err: unknown) {
      // A child not released exits on its own (EOF on its release pipe); one never forked is over already.
      zygote.abandon(jobId);
      if (!forked) sandbox.onExit({ code: null, signal: null });
      await sandbox.destroy();
      throw new SandboxUnavailableError(
        `the fork server could not start a child: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    this.live.add(sandbox);
    sandbox.exited.then(
      () => this.live.delete(sandbox),
      () => this.live.delete(sandbox),
    );
    return sandbox;
  }

  /** Stops forking, lets running children finish, stops the zygotes and removes the jobs directory. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const zygotes = await this.allZygotes();
    await Promise.all(zygotes.map(async (z) => z.idle()));
    await this.stopAll(zygotes);
  }

  /** Kills every child and zygote now. */
  async destroy(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live].map((sandbox) => sandbox.destroy()));
    await this.stopAll(await this.allZygotes());
  }

  private async allZygotes(): Promise<ZygoteProcess[]> {
    const starting = await this.starting?.catch(() => null);
    return [
      ...new Set([this.current, starting ?? null, ...this.retiring].filter((z): z is ZygoteProcess => z !== null)),
    ];
  }

  private async stopAll(zygotes: ZygoteProcess[]): Promise<void> {
    await Promise.all(zygotes.map((z) => z.stop()));
    this.current = null;
    this.retiring.clear();
    rmSync(this.settings.jobsDir, { recursive: true, force: true });
  }

  /**
   * The zygote to fork from: the current one while it lives and has forks left; a replacement is
   * started in the background at the limit (the current one serves until it is ready), and waited
   * for when the current one has died.
   */
  private async zygote(): Promise<ZygoteProcess> {
    if (this.closed) throw new SandboxUnavailableError("the fork server is closed");
    const current = this.current;
    if (current?.alive) {
      if (current.forks >= this.forksPerZygote) void this.replacement().catch(() => undefined);
      return current;
    }
    return this.replacement();
  }

  private replacement(): Promise<ZygoteProcess> {
    this.starting ??= ZygoteProcess.start(this.settings).then(
      (z) => {
        this.starting = null;
        const old = this.current;
        this.current = z;
        if (old) this.retire(old);
        // A zygote that dies is replaced at once (a failed start is retried by the next spawn only).
        z.exited
          .then(() => {
            if (this.current !== z) return;
            this.current = null;
            if (!this.closed) this.replacement().catch(() => undefined);
          })
          .catch(() => undefined);
        if (this.closed) z.stop().catch(() => undefined);
        return z;
      },
      (err: unknown) => {
        this.starting = null;
        throw new SandboxUnavailableError(
          `the fork server's zygote could not start: ${err instanceof Error ? err.message : String(err)}`,
        );
      },
    );
    return this.starting;
  }

  /** Stops a replaced zygote once its last child is reaped. */
  private retire(zygote: ZygoteProcess): void {
    this.retiring.add(zygote);
    zygote
      .idle()
      .then(() => zygote.stop())
      .catch(() => undefined)
      .finally(() => this.retiring.delete(zygote))
      .catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms))),
  ]).finally(() => clearTimeout(timer));
}
