/**
 * Starts sandboxes: one per execution, each a process tree in its own namespaces (bubblewrap),
 * under a seccomp filter, in its own cgroup, with rlimits; or, when the operator opted out with
 * GRAPHBOX_UNSAFE_NO_SANDBOX=1, a plain child process.
 *
 * The tree, from the engine down:
 *   sh (joins the execution's cgroups, then execs) -> prlimit (rlimits) -> setpriv (to uid 65534
 *   on the host, when the engine is root) -> bwrap (namespaces, mounts, seccomp) -> bwrap's init
 *   (pid 1 of the sandbox) -> the runtime.
 * Everything after sh is in the cgroup from its first instruction, so no fork can escape it.
 */
import { randomUUID } from "node:crypto";
import { chmod, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

import {
  bwrapArguments,
  etcInputs,
  hostView,
  SANDBOX_GATEWAY_SOCKET,
  SANDBOX_UID,
  sandboxView,
  type SandboxSpec,
} from "./bwrap.ts";
import { CGROUP_PREFIX, detectCgroups, ExecutionCgroup, sweepStaleCgroups, type CgroupSupport } from "./cgroup.ts";
import { diagnose, type DoctorReport } from "./doctor.ts";
import { stageMounts, type HostMount } from "./mounts.ts";
import { FIRST_INPUT_FD, SandboxProcess, type Confinement, type SpawnPlan } from "./process.ts";
import {
  trippedLimit,
  type SandboxHandlers,
  type SandboxLimits,
  type SandboxOptions,
  type TrippedLimit,
} from "./sandbox.ts";
import { nativeSeccompArch, seccompProgram } from "./seccomp.ts";
import { bwrapHasDisableUserns, ENGINE_IS_ROOT, TOOLS } from "./tools.ts";

export type { SandboxOptions } from "./sandbox.ts";

/** Joins every cgroup named before `--`, then executes the rest. Arguments only: nothing is interpolated into the script. */
const JOIN_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"';

export class SandboxUnavailableError extends Error {
  override name = "SandboxUnavailableError";
}

export class SandboxLauncher {
  private readonly cgroupSupport: CgroupSupport;
  private reportPromise: Promise<DoctorReport> | null = null;
  /** Set by the doctor: false when cgroups cannot be created here (memory and process limits are then off). */
  private cgroupsUsable = false;
  private readonly live = new Set<SandboxProcess>();
  private gatewaySocket: string | undefined;

  constructor(readonly options: SandboxOptions) {
    this.gatewaySocket = options.gatewaySocket;
    this.cgroupSupport = detectCgroups();
  }

  /** True when programs run with no isolation (GRAPHBOX_UNSAFE_NO_SANDBOX=1). */
  get unsafe(): boolean {
    return this.options.unsafeNoSandbox;
  }

  /** Sandboxes started and not yet destroyed. */
  get running(): number {
    return this.live.size;
  }

  /**
   * What protections are in force on this host, probed once (a real sandbox is started for it).
   * First, the cgroups a dead engine left behind are removed.
   */
  report(): Promise<DoctorReport> {
    this.reportPromise ??= sweepStaleCgroups(this.cgroupSupport)
      .catch(() => 0)
      .then(() => diagnose(this))
      .then((report) => {
        this.cgroupsUsable = report.checks.some((c) => c.name === "cgroups" && c.ok);
        return report;
      });
    return this.reportPromise;
  }

  /**
   * Binds the gateway's Unix socket into every sandbox started from now on, where the harness
   * finds it as GRAPHBOX_GATEWAY_SOCKET. When the engine is root the socket's directory stays
   * 0700 root: the socket is bound into each sandbox by root, in the sandbox's private mount
   * namespace (mounts.ts), so no host user, uid 65534 included, can reach it by its path; the
   * socket itself is group 65534 (0660) so the sandbox, uid and gid 65534 on the host, may connect.
   * Unsandboxed runs use the TCP port.
   */
  async useGateway(socketPath: string): Promise<void> {
    if (ENGINE_IS_ROOT && !this.unsafe) await lockGatewaySocket(socketPath);
    this.gatewaySocket = socketPath;
  }

  /** The doctor's report; throws SandboxUnavailableError when this host cannot isolate programs and the operator did not opt out. */
  async ensureUsable(): Promise<DoctorReport> {
    const report = await this.report();
    if (!report.sandboxed && !this.unsafe)
      throw new SandboxUnavailableError(
        `this host cannot sandbox programs: ${report.problems.join("; ")} (see \`npm run doctor\`, or set GRAPHBOX_UNSAFE_NO_SANDBOX=1 for local development only)`,
      );
    return report;
  }

  /**
   * Starts a sandbox for one execution and returns at once: the runtime imports LangGraph and
   * says `ready` on its own; the job is handed over later with `send`. `spec.cwd` names the
   * working directory, made fresh and empty for each sandbox: inside its own /tmp (bwrap.ts), or,
   * unsandboxed, a host directory removed with it. Throws SandboxUnavailableError when this host
   * cannot isolate programs and the operator did not opt out.
   */
  async start(spec: SandboxSpec, limits: SandboxLimits, handlers: SandboxHandlers): Promise<SandboxProcess> {
    if (this.unsafe) return this.startUnsandboxed(spec, limits, handlers);
    await this.ensureUsable();
    const cgroup = this.cgroupsUsable ? await this.createCgroup() : null;
    return this.startIn(spec, limits, handlers, cgroup);
  }

  /** A plain child process (GRAPHBOX_UNSAFE_NO_SANDBOX=1) in a host directory of its own. */
  private async startUnsandboxed(
    spec: SandboxSpec,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
  ): Promise<SandboxProcess> {
    const workDir = await mkdtemp(join(tmpdir(), "graphbox-exec-"));
    const release = (): Promise<void> => rm(workDir, { recursive: true, force: true });
    try {
      const plan: SpawnPlan = { ...hostView(spec, workDir), inputs: [], signalInExitCode: false };
      return this.track(
        SandboxProcess.spawn(plan, limits, handlers, { tripped: async () => null, release, cgroupDirs: [] }),
      );
    } catch (err: unknown) {
      await release();
      throw err;
    }
  }

  /** A new cgroup with this launcher's memory and process limits. */
  createCgroup(): Promise<ExecutionCgroup> {
    return ExecutionCgroup.create(this.cgroupSupport, `${CGROUP_PREFIX}${randomUUID()}`, {
      memoryBytes: this.options.memoryBytes,
      maxProcesses: this.options.maxProcesses,
    });
  }

  /** Starts a confined tree in `cgroup` (null: without memory and process limits); the doctor's probe uses this directly. */
  startIn(
    spec: SandboxSpec,
    limits: SandboxLimits,
    handlers: SandboxHandlers,
    cgroup: ExecutionCgroup | null,
  ): SandboxProcess {
    try {
      return this.track(
        SandboxProcess.spawn(this.plan(spec, cgroup, executionSeccomp()), limits, handlers, this.confinement(cgroup)),
      );
    } catch (err: unknown) {
      cgroup?.remove().catch(() => undefined);
      throw err;
    }
  }

  /** The cgroup support this host offers (for the doctor). */
  get cgroups(): CgroupSupport {
    return this.cgroupSupport;
  }

  private plan(spec: SandboxSpec, cgroup: ExecutionCgroup | null, seccomp: Buffer): SpawnPlan {
    const o = this.options;
    const argsFd = FIRST_INPUT_FD;
    const seccompFd = FIRST_INPUT_FD + 1;
    const etcFd = FIRST_INPUT_FD + 2;
    const view = sandboxView(spec);
    const mounts: HostMount[] = (spec.mounts ?? []).map((m) => ({ kind: "dir", ...m }));
    if (this.gatewaySocket) {
      view.env["GRAPHBOX_GATEWAY_SOCKET"] = SANDBOX_GATEWAY_SOCKET;
      mounts.push({ kind: "socket", source: this.gatewaySocket, target: SANDBOX_GATEWAY_SOCKET });
    }
    const staged = stageMounts(mounts);
    const bwrapArgs = bwrapArguments(
      { ...view, ...(spec.readOnlyPaths ? { readOnlyPaths: spec.readOnlyPaths } : {}) },
      { tmpSizeBytes: o.tmpSizeBytes, binds: staged.binds, seccompFd, etcFd, disableUserns: bwrapHasDisableUserns() },
    );
    // Root engine: the sandbox's user maps to nobody on the host, not to root, so nothing it could
    // ever reach would be reachable as root's. An unprivileged engine maps it to its own uid.
    const dropToNobody = ENGINE_IS_ROOT
      ? [TOOLS.setpriv, `--reuid=${SANDBOX_UID}`, `--regid=${SANDBOX_UID}`, "--clear-groups", "--"]
      : [];
    return {
      command: TOOLS.sh,
      args: [
        "-c",
        JOIN_CGROUPS,
        "graphbox-sandbox",
        ...(cgroup?.procsFiles ?? []),
        "--",
        // Soft CPU limit sends SIGXCPU (reported as resource_limit); the hard one a second later kills.
        TOOLS.prlimit,
        `--cpu=${o.cpuSeconds}:${o.cpuSeconds + 1}`,
        `--fsize=${o.fileSizeBytes}`,
        `--nofile=${o.openFiles}`,
        "--core=0",
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
      // The wrapper needs nothing: bwrap sets the runtime's environment itself (--clearenv, --setenv).
      cwd: "/",
      env: {},
      inputs: [Buffer.from(bwrapArgs.map((a) => `${a}\0`).join("")), seccomp, ...etcInputs()],
      signalInExitCode: true,
    };
  }

  private confinement(cgroup: ExecutionCgroup | null): Confinement {
    const o = this.options;
    return {
      tripped: async (exit): Promise<TrippedLimit | null> => trippedLimit(await cgroup?.tripped(), exit?.signal, o),
      release: async () => cgroup?.remove(),
      cgroupDirs: cgroup?.paths ?? [],
    };
  }

  private track(sandbox: SandboxProcess): SandboxProcess {
    this.live.add(sandbox);
    sandbox.exited.then(
      () => this.live.delete(sandbox),
      () => this.live.delete(sandbox),
    );
    return sandbox;
  }
}

/**
 * The execution filter for this host's architecture, compiled by libseccomp on first use; throws
 * SandboxUnavailableError saying why when it cannot be had (another architecture, no python3-seccomp).
 */
export function executionSeccomp(): Buffer {
  const arch = nativeSeccompArch();
  if (!arch)
    throw new SandboxUnavailableError(`no seccomp filter for ${process.arch}; only x86_64 and aarch64 are supported`);
  try {
    return seccompProgram(arch);
  } catch (err: unknown) {
    throw new SandboxUnavailableError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * A root engine's gateway socket: its directory 0700 root (no host user reaches it by path; each
 * sandbox gets its own bind, made by root), the socket 0660 group 65534 (the sandbox may connect
 * through that bind).
 */
export async function lockGatewaySocket(socketPath: string): Promise<void> {
  await chown(dirname(socketPath), 0, 0);
  await chmod(dirname(socketPath), 0o700);
  await chown(socketPath, 0, SANDBOX_UID);
  await chmod(socketPath, 0o660);
}
