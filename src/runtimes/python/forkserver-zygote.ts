/**
 * One zygote process: the fork server's parent that has imported LangGraph, in a bubblewrap
 * sandbox of its own, and its control channel (fd 3, framed JSON, messages.ts ZygoteCommand and
 * ZygoteReport).
 *
 * The zygote's sandbox is an execution's sandbox with two differences: it keeps every capability
 * inside its user namespace (`--cap-add ALL`: it creates namespaces and mounts for its children,
 * and each child drops them all before any program code runs), and its seccomp filter lets mount,
 * umount2 and unshare through (the children install the full execution filter on top). It sits
 * in a cgroup of its own, which holds it and the children not yet moved into their job's cgroup.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { Readable, Writable } from "node:stream";

import { encodeFrame, FrameDecoder } from "../../contract/protocol/framing.ts";
import {
  parseZygoteReport,
  PROTOCOL_VERSION,
  type ForkLimits,
  type ZygoteCommand,
  type ZygoteReport,
} from "../../contract/protocol/messages.ts";
import { preimportEnv, pythonRuntimeFolders, SANDBOX_PYTHON_HARNESS } from "./launch.ts";
import { bwrapArguments, etcInputs, SANDBOX_GATEWAY_SOCKET, SANDBOX_UID, sandboxView } from "../../sandbox/bwrap.ts";
import { ExecutionCgroup, type CgroupSupport } from "../../sandbox/cgroup.ts";
import { cgroupMembers, hostPidOf } from "./forkserver-procfs.ts";
import { stageMounts, type HostMount } from "../../sandbox/mounts.ts";
import { FIRST_INPUT_FD } from "../../sandbox/process.ts";
import { bwrapHasDisableUserns, ENGINE_IS_ROOT, TOOLS } from "../../sandbox/tools.ts";

/**
 * The fd the zygote holds the host's job-socket directory on (isolate.py JOBS_FD): opened by the
 * engine and inherited through the launch chain, not bound, so no mount inside names it; each
 * child connects through /proc/self/fd/10/<job>.sock and closes it before the program runs.
 * Past fd 9, which the launch wrapper's script uses (mounts.ts).
 */
export const ZYGOTE_JOBS_FD = 10;
const ZYGOTE_CWD = "/tmp/graphbox-zygote";
const ZYGOTE_TMP_BYTES = 1024 * 1024;
const MAX_REPORT_BYTES = 1024 * 1024;
const STDERR_TAIL_BYTES = 16_384;
/** Joins every cgroup named before `--`, then executes the rest (as launcher.ts does). */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

export interface ZygoteSettings {
  pythonPath: string;
  gatewaySocket?: string;
  /** Host directory of the per-job sockets, open in the zygote as ZYGOTE_JOBS_FD. */
  jobsDir: string;
  /** The execution filter, installed by every child. */
  executionSeccomp: Buffer;
  /** The zygote's own filter (the execution filter with mount, umount2 and unshare allowed). */
  zygoteSeccomp: Buffer;
  cgroups: CgroupSupport;
  memoryBytes: number;
  maxProcesses: number;
  startupTimeoutMs: number;
  /** The LLM clients' base URLs the children will have (the gateway's): the zygote builds their HTTP clients once. */
  llmBaseUrls?: { openai: string; anthropic: string };
  /** The operator's modules imported before the zygote says ready (GRAPHBOX_PYTHON_PREIMPORT). */
  preimport: readonly string[];
}

/** How a child ended, as the zygote reaped it. */
export interface ChildExit {
  code: number | null;
  signal: number | null;
}

export class ZygoteStartError extends Error {
  override name = "ZygoteStartError";
}

export class ZygoteProcess {
  /** The zygote's host pid (its children are its direct children on the host too). */
  hostPid = 0;
  versions: Record<string, string> = {};
  /** Children forked so far. */
  forks = 0;
  readonly startedAt = Date.now();
  readonly exited: Promise<void>;
  private dead = false;
  private readonly child: ChildProcess;
  private stderrTail = "";
  private readyWaiter: {
    resolve: (report: Extract<ZygoteReport, { type: "zygote_ready" }>) => void;
    reject: (err: Error) => void;
  } | null = null;
  private readonly forkWaiters = new Map<
    string,
    { resolve: (pidInNs: number) => void; reject: (err: Error) => void }
  >();
  /** Children not yet reaped, by job id: called once with their exit (or a SIGKILL if the zygote dies). */
  private readonly live = new Map<string, (exit: ChildExit) => void>();
  private idleWaiters: (() => void)[] = [];

  private constructor(
    settings: ZygoteSettings,
    private readonly cgroup: ExecutionCgroup,
  ) {
    const folders = pythonRuntimeFolders(settings.pythonPath);
    const view = sandboxView({
      command: settings.pythonPath,
      args: [
        "-I",
        "-u",
        "-B",
        "-c",
        `import sys; sys.path.insert(0, ${JSON.stringify(SANDBOX_PYTHON_HARNESS)}); from graphbox_harness.zygote import main; main()`,
      ],
      cwd: ZYGOTE_CWD,
      env: {
        PATH: "/usr/local/bin:/usr/bin:/bin",
        LANG: "C.UTF-8",
        HOME: ZYGOTE_CWD,
        ...preimportEnv(settings.preimport),
      },
      mounts: folders.mounts,
    });
    const mounts: HostMount[] = folders.mounts.map((m) => ({ kind: "dir", ...m }));
    if (settings.gatewaySocket)
      mounts.push({ kind: "socket", source: settings.gatewaySocket, target: SANDBOX_GATEWAY_SOCKET });
    const staged = stageMounts(mounts);
    const argsFd = FIRST_INPUT_FD;
    const seccompFd = FIRST_INPUT_FD + 1;
    const etcFd = FIRST_INPUT_FD + 2;
    const bwrapArgs = bwrapArguments(
      { env: view.env, cwd: ZYGOTE_CWD, readOnlyPaths: folders.readOnlyPaths },
      {
        tmpSizeBytes: ZYGOTE_TMP_BYTES,
        binds: staged.binds,
        seccompFd,
        etcFd,
        disableUserns: bwrapHasDisableUserns(),
        capabilities: "all",
      },
    );
    const dropToNobody = ENGINE_IS_ROOT
      ? [TOOLS.setpriv, `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, "--clear-groups", "--"]
      : [];
    const inputs = [Buffer.from(bwrapArgs.map((a) => `${a}\0`).join("")), settings.zygoteSeccomp, ...etcInputs()];
    const stdio: ("ignore" | "pipe" | number)[] = [
      "ignore",
      "pipe",
      "pipe",
      "pipe",
      ...inputs.map(() => "pipe" as const),
    ];
    while (stdio.length < ZYGOTE_JOBS_FD) stdio.push("ignore");
    const jobsDirFd = openSync(settings.jobsDir, constants.O_RDONLY | constants.O_DIRECTORY);
    stdio.push(jobsDirFd);
    try {
      this.child = spawn(
        TOOLS.sh,
        [
          "-c",
          JOIN_CGROUPS,
          "graphbox-zygote",
          ...cgroup.procsFiles,
          "--",
          ...staged.wrapper,
          ...dropToNobody,
          TOOLS.bwrap,
          "--args",
          String(argsFd),
          "--",
          view.command,
          ...view.args,
        ],
        { cwd: "/", env: {}, stdio, detached: true },
      );
    } finally {
      closeSync(jobsDirFd);
    }
    inputs.forEach((data, i) => {
      const input = this.child.stdio[argsFd + i] as Writable | null;
      input?.on("error", () => undefined);
      input?.end(data);
    });
    const keepTail = (chunk: Buffer): void => {
      this.stderrTail = (this.stderrTail + chunk.toString("utf8")).slice(-STDERR_TAIL_BYTES);
    };
    this.child.stdout?.on("data", keepTail);
    this.child.stderr?.on("data", keepTail);
    this.exited = new Promise((resolve) => {
      const onGone = (): void => {
        if (this.dead) return;
        this.dead = true;
        this.onDeath();
        // Its cgroup goes with it, whether it was stopped or died (remove() waits for stragglers).
        this.cgroup.remove().then(resolve, resolve);
      };
      this.child.once("exit", onGone);
      this.child.once("error", (err) => {
        keepTail(Buffer.from(String(err)));
        onGone();
      });
    });
    this.listen();
    this.command({
      v: PROTOCOL_VERSION,
      type: "init",
      seccomp: settings.executionSeccomp.toString("base64"),
      llm_base_urls: settings.llmBaseUrls ?? null,
    });
  }

  /** Starts a zygote and waits until it has imported LangGraph; rejects with its stderr if it cannot. */
  static async start(settings: ZygoteSettings): Promise<ZygoteProcess> {
    const cgroup = await ExecutionCgroup.create(settings.cgroups, `graphbox-zygote-${randomUUID()}`, {
      memoryBytes: settings.memoryBytes,
      maxProcesses: settings.maxProcesses,
    });
    let zygote: ZygoteProcess;
    try {
      zygote = new ZygoteProcess(settings, cgroup);
    } catch (err: unknown) {
      await cgroup.remove();
      throw err;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const ready = await new Promise<Extract<ZygoteReport, { type: "zygote_ready" }>>((resolve, reject) => {
        zygote.readyWaiter = { resolve, reject };
        timer = setTimeout(
          () =>
            reject(
              new ZygoteStartError(`the zygote did not import its runtime within ${settings.startupTimeoutMs} ms`),
            ),
          settings.startupTimeoutMs,
        );
      });
      const hostPid = hostPidOf(cgroupMembers(cgroup.procsFiles[0]!), ready.pid_in_ns);
      if (hostPid === null) throw new ZygoteStartError("the zygote's host pid could not be found in its cgroup");
      zygote.hostPid = hostPid;
      zygote.versions = Object.fromEntries(ready.versions);
      return zygote;
    } catch (err: unknown) {
      await zygote.stop();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** Children forked and not yet reaped. */
  get running(): number {
    return this.live.size;
  }

  /**
   * Forks a child for `jobId`; resolves with its pid in the zygote's namespace once the zygote
   * says so. `onExit` is called once, when the zygote reaps it (or dies: SIGKILL).
   */
  fork(jobId: string, token: string, limits: ForkLimits, onExit: (exit: ChildExit) => void): Promise<number> {
    if (this.dead) return Promise.reject(new Error(`the zygote is gone: ${this.diagnostics()}`));
    this.forks++;
    this.live.set(jobId, onExit);
    const forked = new Promise<number>((resolve, reject) => this.forkWaiters.set(jobId, { resolve, reject }));
    this.command({ v: PROTOCOL_VERSION, type: "fork", job_id: jobId, token, limits });
    return forked;
  }

  /** The host pid of a child the zygote reported as `pidInNs`, or null. */
  childHostPid(pidInNs: number): number | null {
    return hostPidOf(cgroupMembers(this.cgroup.procsFiles[0]!), pidInNs, this.hostPid);
  }

  /** Lets the child go on: the engine has put it in its job's cgroup. */
  release(jobId: string): void {
    this.command({ v: PROTOCOL_VERSION, type: "release", job_id: jobId });
  }

  /** Makes a child that was not released exit. */
  abandon(jobId: string): void {
    this.command({ v: PROTOCOL_VERSION, type: "abandon", job_id: jobId });
  }

  /** Resolves once no child of this zygote is left (at once if none is). */
  idle(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Ends the zygote (and so, through PDEATHSIG, any child still running); resolves once its cgroup is removed. */
  async stop(): Promise<void> {
    if (!this.dead && this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await this.exited;
  }

  /** The zygote's cgroup directories, for inspection. */
  get cgroupDirs(): string[] {
    return this.cgroup.paths;
  }

  /** The zygote's recent output, for errors. */
  diagnostics(): string {
    return this.stderrTail.trim() || "no output";
  }

  private command(message: ZygoteCommand): void {
    (this.child.stdio[3] as Writable | null)?.write(encodeFrame(message));
  }

  private listen(): void {
    const channel = this.child.stdio[3] as Readable | null;
    if (!channel) return;
    const decoder = new FrameDecoder(MAX_REPORT_BYTES);
    channel.on("error", () => undefined);
    channel.on("data", (chunk: Buffer) => {
      try {
        for (const frame of decoder.push(chunk)) this.onReport(parseZygoteReport(frame));
      } catch (err: unknown) {
        // The zygote runs no program code: a bad frame means it is broken. Replace it.
        this.stderrTail += `\n[graphbox: ${err instanceof Error ? err.message : String(err)}]`;
        this.stop().catch(() => undefined);
      }
    });
  }

  private onReport(report: ZygoteReport): void {
    switch (report.type) {
      case "zygote_ready":
        this.readyWaiter?.resolve(report);
        this.readyWaiter = null;
        return;
      case "forked":
        this.forkWaiters.get(report.job_id)?.resolve(report.pid_in_ns);
        this.forkWaiters.delete(report.job_id);
        return;
      case "fork_failed":
        this.forkWaiters.get(report.job_id)?.reject(new Error(`the zygote could not fork: ${report.error}`));
        this.forkWaiters.delete(report.job_id);
        this.childGone(report.job_id, { code: null, signal: null });
        return;
      case "reaped":
        this.childGone(report.job_id, { code: report.code, signal: report.signal });
        return;
    }
  }

  private childGone(jobId: string, exit: ChildExit): void {
    const onExit = this.live.get(jobId);
    this.live.delete(jobId);
    onExit?.(exit);
    if (this.live.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Its children died with it (PDEATHSIG): each is reported as killed. */
  private onDeath(): void {
    const gone = new Error(`the zygote exited: ${this.diagnostics()}`);
    this.readyWaiter?.reject(new ZygoteStartError(gone.message));
    this.readyWaiter = null;
    for (const waiter of this.forkWaiters.values()) waiter.reject(gone);
    this.forkWaiters.clear();
    for (const jobId of [...this.live.keys()]) this.childGone(jobId, { code: null, signal: 9 });
  }
}
