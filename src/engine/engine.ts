/**
 * The engine: runs executions on threads. It takes the thread's lock, records the execution and
 * its events in the store, runs it, and ends its record and stream with exactly one terminal event.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Config } from "../config/index.ts";
import { ERRORS, GraphboxError } from "../contract/errors.ts";
import { Gateway } from "../gateway/gateway.ts";
import { ForkServer } from "../runtimes/python/forkserver.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { MemoryBudget, WarmPool } from "../supply/pool.ts";
import { runtimeFor, type Runtime } from "../runtimes/index.ts";
import { SandboxLauncher, sandboxOptions } from "../sandbox/launcher.ts";
import { Observers, type ExecutionInfo } from "../observability/observer.ts";
import type { StoredEvent, Store, ThreadRef } from "../store/types.ts";
import type { WatchedPaths } from "../runtimes/files.ts";
import { RuntimeFilesWatch } from "../supply/runtime-files.ts";
import { Execution, type ExecutionHooks } from "./execution.ts";
import { harnessEnvironment, llmBaseUrls, PENDING_CREDENTIAL } from "../runtimes/environment.ts";
import { HarnessCheckpoints } from "./harness-checkpoints.ts";
import type { ExecutionEvent, ExecutionOutcome, ExecutionRequest, RuntimeName, TerminalEvent } from "../contract/types.ts";

/** A thread's lock lasts this long and is renewed while its execution runs; a dead engine's lapses. */
const THREAD_LOCK_TTL_MS = 30_000;

export interface RunHooks {
  /** Every event as it is stored, with its seq (the SSE id), the terminal one last. */
  onEvent?: (event: StoredEvent) => void;
  /** Aborting ends the execution with error_type `cancelled`. */
  signal?: AbortSignal;
}

export class Engine {
  /** Identifies this engine process in the store (several engines may share one database). */
  readonly engineId = randomUUID();
  readonly gateway: Gateway;
  /** Starts every execution's sandbox; its `report()` says which protections are in force. */
  readonly sandboxes: SandboxLauncher;
  /**
   * Python executions fork from this warm parent (LangGraph already imported) into sandboxes of
   * their own; null when off, unsandboxed, or when it could not start (then each execution gets
   * a fresh sandbox, the reason in `forkServerProblem`).
   */
  forkServer: ForkServer | null = null;
  forkServerProblem: string | null = null;
  /** Pre-started sandboxes by runtime (Python's forked from the fork server when it runs). */
  readonly pools = new Map<Runtime["name"], WarmPool>();
  /** What every pool's waiting sandboxes may hold together. */
  readonly warmBudget: MemoryBudget;
  /** Times a runtime's files changed and its warm sandboxes were replaced. */
  runtimeRestarts = 0;
  private runtimeFiles: RuntimeFilesWatch | null = null;
  private readonly running = new Map<string, { promise: Promise<ExecutionOutcome>; cancel: AbortController }>();
  /** Sandboxes of ended executions still being torn down (killed already; reaped and removed in the background). */
  private readonly teardowns = new Set<Promise<unknown>>();
  private readonly cancelAll = new AbortController();
  private started: Promise<void> | null = null;

  constructor(readonly config: Readonly<Config>, readonly store: Store, readonly observers: Observers = new Observers()) {
    this.gateway = new Gateway(config, {
      modelAllowlist: config.modelAllowlist,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      onCall: (call) => observers.llmCall(call),
    });
    this.sandboxes = new SandboxLauncher(sandboxOptions(config));
    this.warmBudget = new MemoryBudget(config.warmPoolMemoryMb * 1024 * 1024);
    if (!config.pythonForkServer) this.forkServerProblem = "off (GRAPHBOX_PYTHON_FORK_SERVER=0)";
    else if (config.sandbox.unsafeNoSandbox) this.forkServerProblem = "off: programs run unsandboxed";
  }

  /**
   * Pools of pre-started sandboxes, per runtime; they fill in the background. Python's are forked
   * from the fork server's zygote (each already in its own namespaces, cgroup and seccomp, waiting
   * for its job), or fresh sandboxes when there is no fork server; JavaScript's are fresh sandboxes.
   */
  private startPools(): void {
    if (this.config.warmPoolMax === 0) return;
    for (const language of ["typescript", "python"] as const) {
      const runtime = runtimeFor(language);
      if (!runtime || this.pools.has(runtime.name)) continue;
      const forkServer = runtime.name === "python" ? this.forkServer : null;
      const start: (...args: Parameters<SandboxLauncher["start"]>) => Promise<Sandbox> = forkServer ? (...args) => forkServer.spawn(...args) : (...args) => this.sandboxes.start(...args);
      const pool = new WarmPool(
        async (handlers) => {
          const workDir = await mkdtemp(join(tmpdir(), "graphbox-exec-"));
          const spec = runtime.launch(this.config, workDir, harnessEnvironment(workDir, this.gateway.url, PENDING_CREDENTIAL));
          try {
            const sandbox = await start(spec, { maxLogBytes: this.config.maxLogBytes, maxLogTotalBytes: this.config.maxLogTotalBytes, maxFrameBytes: this.config.maxOutputBytes }, handlers);
            return { sandbox, workDir, dispose: () => rm(workDir, { recursive: true, force: true }) };
          } catch (err: unknown) {
            await rm(workDir, { recursive: true, force: true });
            throw err;
          }
        },
        { min: Math.min(this.config.warmPoolMin, this.config.warmPoolMax), max: this.config.warmPoolMax, budget: this.warmBudget },
      );
      this.pools.set(runtime.name, pool);
      pool.fill();
    }
  }

  /**
   * Watches the runtimes' files: when a harness is edited or packages are reinstalled, the warm
   * sandboxes (and the zygote) that hold the old code are replaced.
   */
  private watchRuntimeFiles(): void {
    const watched = new Map<string, WatchedPaths>();
    const python = runtimeFor("python");
    const js = runtimeFor("typescript");
    if (python) watched.set(python.name, python.files(this.config));
    if (js) watched.set(js.name, js.files(this.config));
    this.runtimeFiles = new RuntimeFilesWatch(watched, (name) => {
      this.runtimeRestarts += 1;
      const pool = this.pools.get(name as Runtime["name"]);
      // Python's pool is drained once the new zygote is up: until then children still come from the old one.
      const forkServer = name === "python" ? this.forkServer : null;
      if (forkServer) void forkServer.restart().then(() => pool?.drain(), () => pool?.drain());
      else pool?.drain();
    });
  }

  /** Starts the Python fork server, or says why it could not; executions then use fresh sandboxes. */
  private async startForkServer(): Promise<void> {
    if (this.forkServerProblem) return;
    try {
      const forkServer = new ForkServer({
        ...sandboxOptions(this.config),
        pythonPath: this.config.pythonPath,
        startupTimeoutMs: this.config.startupTimeoutMs,
        llmBaseUrls: llmBaseUrls(this.gateway.url),
      });
      await forkServer.useGateway(this.gateway.socketPath!);
      await forkServer.start();
      this.forkServer = forkServer;
    } catch (err: unknown) {
      this.forkServerProblem = err instanceof Error ? err.message : String(err);
    }
  }

  /** Starts the gateway, the fork server and the warm pools, and fails executions a dead engine left running. Idempotent. */
  start(): Promise<void> {
    this.started ??= (async () => {
      // Refuses to serve when programs could not be isolated, unless the operator opted out.
      await this.sandboxes.ensureUsable();
      await this.gateway.listen();
      // Sandboxes have no network: they reach the gateway through its socket, bound in.
      await this.sandboxes.useGateway(this.gateway.socketPath!);
      await this.startForkServer();
      this.startPools();
      this.watchRuntimeFiles();
      await this.store.executions.markRunningAsFailed("the engine stopped while this execution was running", {
        finalEvent: (execution) => ({
          type: "error",
          data: { type: "error", status: "error", error: "the engine stopped while this execution was running", error_type: "internal_error", code: "GBX_ERR_INTERNAL", execution_id: execution.id },
        }),
      });
    })();
    return this.started;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Runs one execution to its outcome. Never throws for anything the program does; throws a
   * GraphboxError when the request cannot run at all (no runtime, thread busy or of the other runtime).
   */
  async execute(request: ExecutionRequest, owner: string, hooks: RunHooks = {}, queueMs = 0): Promise<ExecutionOutcome> {
    await this.start();
    const runtime = runtimeFor(request.language);
    if (!runtime) throw new GraphboxError("GBX_ERR_RUNTIME_UNAVAILABLE", `the ${request.language} runtime is not available in this engine: its packages are not installed (run \`npm run setup\`)`);
    const id = randomUUID();
    const thread: ThreadRef = { owner, threadId: request.threadId };

    const lock = await this.store.threads.tryLock(thread, id, THREAD_LOCK_TTL_MS);
    if (!lock.acquired) throw new GraphboxError("GBX_ERR_THREAD_BUSY", `thread ${JSON.stringify(request.threadId)} is busy with execution ${lock.heldBy}; retry when it has ended`);
    const renew = setInterval(() => {
      this.store.threads.tryLock(thread, id, THREAD_LOCK_TTL_MS).catch((err: unknown) => this.observers.engineFault("thread_lock", err));
    }, THREAD_LOCK_TTL_MS / 3);
    try {
      await this.admit(request, thread, runtime.name);
      await this.store.executions.create({ id, threadId: request.threadId, owner, runtime: runtime.name, engineId: this.engineId });
      const info: ExecutionInfo = { id, owner, threadId: request.threadId, runtime: runtime.name, language: request.language, queueMs };
      return await this.run(request, info, thread, runtime, hooks);
    } finally {
      clearInterval(renew);
      await this.store.threads.unlock(thread, id);
    }
  }

  /** Refuses what cannot run on this thread, before anything is recorded. */
  private async admit(request: ExecutionRequest, thread: ThreadRef, runtime: RuntimeName): Promise<void> {
    const existing = await this.store.threads.get(thread);
    if (existing && existing.runtime !== runtime) {
      throw new GraphboxError("GBX_ERR_THREAD_RUNTIME", `thread ${JSON.stringify(thread.threadId)} was written by the ${existing.runtime} runtime; a ${request.language} program cannot continue it`);
    }
    if (request.inputs === null && request.resume === null) {
      // Whether there is one, without loading its blob (a specific id is looked up as such).
      const checkpoints = this.store.checkpoints;
      const head = !existing ? null : request.checkpointId ? await checkpoints.getTuple(thread, { checkpointId: request.checkpointId }) : await checkpoints.getHeadState(thread);
      if (!head) {
        throw new GraphboxError("GBX_ERR_NOTHING_TO_CONTINUE", `\`inputs\` is null but thread ${JSON.stringify(thread.threadId)} has no checkpoint to continue from; send inputs to start it`);
      }
    }
    await this.store.threads.ensure({ ...thread, runtime });
  }

  private async run(request: ExecutionRequest, info: ExecutionInfo, thread: ThreadRef, runtime: NonNullable<ReturnType<typeof runtimeFor>>, hooks: RunHooks): Promise<ExecutionOutcome> {
    const id = info.id;
    this.observers.executionStarted(info);
    const cancel = new AbortController();
    const signals = [cancel.signal, this.cancelAll.signal, ...(hooks.signal ? [hooks.signal] : [])];
    // Events are stored in order; each reaches the live listener once it has its seq. The harness's
    // channel waits for each (backpressure); a store that fails ends this execution, not the engine.
    let appended: Promise<void> = Promise.resolve();
    let execution: Execution | null = null;
    const record = (event: ExecutionEvent): Promise<void> => {
      this.observers.executionEvent(info, event);
      appended = appended
        .then(async () => {
          const stored = await this.store.events.append(id, { type: event.type, data: event });
          if (stored) hooks.onEvent?.(stored);
        })
        .catch((err: unknown) => {
          this.observers.engineFault("event_store", err);
          execution?.fail("GBX_ERR_INTERNAL", `the engine could not record an event: ${err instanceof Error ? err.message : String(err)}`);
        });
      return appended;
    };
    const executionHooks: ExecutionHooks = {
      onEvent: record,
      signal: AbortSignal.any(signals),
      onSandboxReady: (ms) => this.observers.sandboxStarted(runtime.name, ms),
    };
    execution = new Execution(this.config, request, { id, runtime, gateway: this.gateway, sandboxes: this.sandboxes, forkServer: this.forkServer, pool: this.pools.get(runtime.name) ?? null, checkpoints: this.harnessCheckpoints(runtime.name), thread }, executionHooks);
    const promise = execution.run();
    this.running.set(id, { promise, cancel });
    try {
      const outcome = await promise;
      const released = execution.released().catch(() => undefined);
      this.teardowns.add(released);
      released.then(() => this.teardowns.delete(released), () => undefined);
      await execution.settled();
      await appended;
      await this.finish(id, thread, outcome, hooks);
      this.observers.executionEnded(info, outcome);
      return outcome;
    } finally {
      this.running.delete(id);
    }
  }

  private async finish(id: string, thread: ThreadRef, outcome: ExecutionOutcome, hooks: RunHooks): Promise<void> {
    const terminal: TerminalEvent = outcome.status === "error" ? { type: "error", ...outcome } : { type: "complete", ...outcome };
    const metadata = outcome.status === "error" ? outcome.metadata : outcome.result.metadata;
    const status = outcome.status === "error" ? (outcome.error_type === "cancelled" ? "cancelled" : "error") : outcome.status;
    const { event } = await this.store.executions.finish(
      id,
      {
        status,
        errorType: outcome.status === "error" ? outcome.error_type : null,
        error: outcome.status === "error" ? outcome.error : null,
        tokensUsed: metadata.tokens_used,
        nodesExecuted: metadata.nodes_executed,
        result: outcome,
      },
      { type: terminal.type, data: terminal },
    );
    // A result says what the thread's head is waiting for (LangGraph computes `next` from the graph,
    // which the engine cannot); GET /threads/{id}/state shows it while that checkpoint is the head.
    const head = outcome.status === "error" ? undefined : { checkpointId: metadata.checkpoint_id, next: metadata.next, interrupts: metadata.interrupts };
    await this.store.threads.setStatus(thread, status === "success" ? "idle" : status === "interrupted" ? "interrupted" : "error", head);
    if (event) hooks.onEvent?.(event);
  }

  /** The checkpoint store as an execution's harness reaches it: the engine's checkpoint rules and limits in front. */
  private harnessCheckpoints(runtime: RuntimeName): HarnessCheckpoints {
    const c = this.config;
    return new HarnessCheckpoints(this.store.checkpoints, {
      runtime,
      maxWriteBytes: c.maxCheckpointWriteBytes,
      maxThreadBytes: c.maxThreadCheckpointBytes,
      maxReadBytes: c.maxCheckpointReadBytes,
      listLimit: c.checkpointListLimit,
    });
  }

  /** Cancels a running execution of this owner; false when none runs here. */
  async cancel(owner: string, id: string): Promise<boolean> {
    const execution = await this.store.executions.get(owner, id);
    const running = this.running.get(id);
    if (!execution || !running) return false;
    running.cancel.abort("cancelled by request");
    await running.promise.catch(() => undefined);
    return true;
  }

  /** Lets running executions finish, and waits until their sandboxes are gone. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()].map((r) => r.promise));
    await Promise.all([...this.teardowns]);
  }

  /** Cancels every running execution and waits until their processes are gone. */
  async destroy(reason = "the engine is stopping"): Promise<void> {
    this.cancelAll.abort(reason);
    await this.close();
    this.runtimeFiles?.close();
    // Pools first: the fork server waits for its children, the pools' waiting ones included.
    await Promise.all([...this.pools.values()].map((pool) => pool.close()));
    await this.forkServer?.close();
    if (this.started) await this.gateway.close();
  }
}

export const statusOf = (outcome: ExecutionOutcome): number => (outcome.status === "error" ? ERRORS[outcome.code].status : 200);
