/**
 * The supply as index.ts composes it: per runtime, the first source that serves it (once every
 * source has started), with a pool of pre-started sandboxes of that source in front, and a watch
 * on the runtime's files that replaces warm sandboxes holding old code.
 */
import type { Config } from "../config/index.ts";
import type { RuntimeName } from "../contract/types.ts";
import { harnessEnvironment, PENDING_CREDENTIAL } from "../runtimes/environment.ts";
import type { WatchedPaths } from "../runtimes/files.ts";
import type { Runtime } from "../runtimes/index.ts";
import { SANDBOX_WORKDIR, type SandboxSpec } from "../sandbox/bwrap.ts";
import type { DoctorReport } from "../sandbox/doctor.ts";
import { SandboxUnavailableError, type SandboxLauncher } from "../sandbox/launcher.ts";
import type { Sandbox, SandboxHandlers, SandboxLimits } from "../sandbox/sandbox.ts";
import type { PythonForkServer } from "./forked.ts";
import { MemoryBudget, WarmPool } from "./pool.ts";
import { RuntimeFilesWatch } from "./runtime-files.ts";
import type { GatewayAddress, SandboxSource } from "./source.ts";
import type { AcquireOptions, SandboxSupply, SupplyReport } from "./supply.ts";

export interface SupplyParts {
  config: Readonly<Config>;
  /** Read when the supply starts: the gateway listens by then. */
  gateway: GatewayAddress;
  /** The host's sandboxing: whether it can isolate programs at all, what it enforces. */
  launcher: SandboxLauncher;
  /** The runtimes sandboxes are supplied for. */
  runtimes: Runtime[];
  /** In order of preference: each runtime is served by the first that serves it once started. */
  sources: SandboxSource[];
  /** The Python fork server among the sources, for the report (null: none composed). */
  forkServer: PythonForkServer | null;
}

export class ComposedSupply implements SandboxSupply {
  private readonly chosen = new Map<RuntimeName, SandboxSource>();
  private readonly pools = new Map<RuntimeName, WarmPool>();
  private readonly budget: MemoryBudget;
  private readonly limits: SandboxLimits;
  private watch: RuntimeFilesWatch | null = null;
  private runtimeFileChanges = 0;
  private started: Promise<void> | null = null;

  constructor(private readonly parts: SupplyParts) {
    const c = parts.config;
    this.budget = new MemoryBudget(c.warmPoolMemoryMb * 1024 * 1024);
    this.limits = { maxLogBytes: c.maxLogBytes, maxLogTotalBytes: c.maxLogTotalBytes, maxFrameBytes: c.maxOutputBytes };
  }

  start(): Promise<void> {
    this.started ??= (async () => {
      const { launcher, gateway, sources } = this.parts;
      // Refuses to serve when programs could not be isolated, unless the operator opted out.
      await launcher.ensureUsable();
      const socket = gateway.socketPath;
      if (!socket) throw new Error("the gateway must listen before the sandbox supply starts");
      // Sandboxes have no network: they reach the gateway through its socket, bound in.
      await launcher.useGateway(socket);
      for (const source of sources) await source.start(gateway);
      for (const runtime of this.parts.runtimes) {
        const source = sources.find((s) => s.serves(runtime.name));
        if (source) this.chosen.set(runtime.name, source);
      }
      this.startPools();
      this.watchRuntimeFiles();
    })();
    return this.started;
  }

  async acquire(runtime: RuntimeName, options: AcquireOptions): Promise<Sandbox> {
    await this.start();
    return this.pools.get(runtime)?.take(options.handlers) ?? this.open(runtime, options.handlers);
  }

  /** A sandbox started now by the runtime's source; the credential travels in the job, never in its start-up environment. */
  private open(name: RuntimeName, handlers: SandboxHandlers): Promise<Sandbox> {
    const runtime = this.parts.runtimes.find((r) => r.name === name);
    const source = this.chosen.get(name);
    if (!runtime || !source)
      return Promise.reject(new SandboxUnavailableError(`no sandbox can be had for the ${name} runtime`));
    return source.open(this.spec(runtime), this.limits, handlers);
  }

  /** What the runtime asks to run; its working directory is each sandbox's own (SANDBOX_WORKDIR names it). */
  private spec(runtime: Runtime): SandboxSpec {
    return runtime.launch(
      this.parts.config,
      SANDBOX_WORKDIR,
      harnessEnvironment(SANDBOX_WORKDIR, this.parts.gateway.url, PENDING_CREDENTIAL),
    );
  }

  /**
   * Pools of pre-started sandboxes, per runtime, filled in the background from the runtime's
   * source: Python's forked from the zygote (each already in its own namespaces, cgroup and
   * seccomp, waiting for its job) when the fork server runs, fresh ones otherwise.
   */
  private startPools(): void {
    const c = this.parts.config;
    if (c.warmPoolMax === 0) return;
    for (const name of this.chosen.keys()) {
      const pool = new WarmPool((handlers) => this.open(name, handlers), {
        min: Math.min(c.warmPoolMin, c.warmPoolMax),
        max: c.warmPoolMax,
        budget: this.budget,
      });
      this.pools.set(name, pool);
      pool.fill();
    }
  }

  /**
   * When a harness is edited or packages are reinstalled, the warm sandboxes (and the zygote)
   * that hold the old code are replaced. A pool is drained once its source has been refreshed:
   * until the new zygote is up, children still come from the old one.
   */
  private watchRuntimeFiles(): void {
    const watched = new Map<string, WatchedPaths>(this.parts.runtimes.map((r) => [r.name, r.files(this.parts.config)]));
    this.watch = new RuntimeFilesWatch(watched, (changed) => {
      this.runtimeFileChanges += 1;
      const name = changed as RuntimeName;
      const pool = this.pools.get(name);
      const refreshed = this.chosen.get(name)?.refresh(name) ?? Promise.resolve();
      refreshed.then(
        () => pool?.drain(),
        () => pool?.drain(),
      );
    });
  }

  report(): SupplyReport {
    return {
      pythonForkServer: this.parts.forkServer?.state() ?? { state: "off", reason: "not part of this engine" },
      pools: [...this.pools].map(([runtime, pool]) => ({
        runtime,
        waiting: pool.size,
        ready: pool.ready,
        hits: pool.hits,
        misses: pool.misses,
        memoryBytes: pool.memoryBytes,
      })),
      poolMemoryBudgetBytes: this.budget.bytes,
      runtimeFileChanges: this.runtimeFileChanges,
    };
  }

  protections(): Promise<DoctorReport> {
    return this.parts.launcher.report();
  }

  async close(): Promise<void> {
    this.watch?.close();
    // Pools first: the fork server waits for its children, the pools' waiting ones included.
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    for (const source of this.parts.sources) await source.close();
  }

  async destroy(): Promise<void> {
    this.watch?.close();
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    await Promise.all(this.parts.sources.map((source) => source.destroy()));
  }
}
