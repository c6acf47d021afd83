/**
 * The engine: runs executions on threads. It takes the thread's lock, records the execution and
 * its events in the store, runs it, and ends its record and stream with exactly one terminal event.
 */
import { randomUUID } from "node:crypto";

import type { Config } from "../config/index.ts";
import { ERRORS, GraphboxError } from "../contract/errors.ts";
import type { EgressProxy } from "../egress/proxy.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { runtimeFor } from "../runtimes/index.ts";
import { Observers, type ExecutionInfo } from "../observability/observer.ts";
import type { CancelAction, StoredEvent, Store, ThreadRef } from "../store/types.ts";
import type { SandboxSupply } from "../supply/index.ts";
import type { Admission } from "./admission.ts";
import { Execution, FAILURE_CODES, type ExecutionHooks } from "./execution.ts";
import { HarnessCheckpoints } from "./harness-checkpoints.ts";
import { Peers } from "./peers.ts";
import type { JobOp } from "../contract/protocol/messages.ts";
import type {
  Language,
  ExecutionEvent,
  ExecutionOutcome,
  ExecutionRequest,
  RuntimeName,
  TerminalEvent,
} from "../contract/types.ts";

/** A thread's lock lasts this long and is renewed while its execution runs; a dead engine's lapses. */
export const THREAD_LOCK_TTL_MS = 30_000;

export interface RunHooks {
  /** Every event as it is stored, with its seq (the SSE id), the terminal one last. */
  onEvent?: (event: StoredEvent) => void;
  /** Aborting ends the execution with error_type `cancelled`. */
  signal?: AbortSignal;
}

export interface ExecuteOptions extends RunHooks {
  request: ExecutionRequest;
  /** The API key's name: it owns the thread and the execution, and its admission limits apply. */
  owner: string;
}

/** A registered program as the engine runs it (the Agent API's graphs). */
export interface Program {
  language: Language;
  code: string;
  files: Record<string, string>;
  /** The variable holding the graph (config.graph); null: the harness finds it. */
  graph: string | null;
}

export interface InspectOptions {
  owner: string;
  program: Program;
  /** The owner's thread whose checkpoints the op reads (and, for update_state, writes); null for `describe`. */
  threadId: string | null;
  op: Exclude<JobOp, "run">;
  /** The op's arguments (see JOB_OPS in the harness protocol). */
  args: Record<string, unknown>;
  signal?: AbortSignal;
}

/** What the engine is made of; the composition root (src/app.ts) makes each part. */
export interface EngineParts {
  config: Readonly<Config>;
  store: Store;
  /** The LLM gateway: the engine starts and stops it, and opens each execution's account. */
  gateway: Gateway;
  /** The egress proxy, when the operator opened egress (GRAPHBOX_EGRESS_ALLOW); its connections are cut when the engine stops. */
  egress?: EgressProxy;
  /** Where executions get their sandboxes. */
  supply: SandboxSupply;
  /** Admits every execution (slots, queue, per-key limits), whoever asks the engine to run it. */
  admission: Admission;
  /** Default: none. */
  observers?: Observers;
}

export class Engine {
  /** Identifies this engine process in the store (several engines may share one database). */
  readonly engineId = randomUUID();
  readonly config: Readonly<Config>;
  readonly store: Store;
  readonly gateway: Gateway;
  readonly egress: EgressProxy | undefined;
  readonly supply: SandboxSupply;
  readonly admission: Admission;
  readonly observers: Observers;
  private readonly running = new Map<string, { promise: Promise<ExecutionOutcome>; cancel: AbortController }>();
  /** Sandboxes of ended executions still being torn down (killed already; reaped and removed in the background). */
  private readonly teardowns = new Set<Promise<unknown>>();
  private readonly cancelAll = new AbortController();
  private started: Promise<void> | null = null;
  /** This engine among the engines on its database: its lease, the sweep of dead ones, cancels asked of it. */
  readonly peers: Peers;
  /**
   * Given first each cancel asked of this engine from anywhere: the Agent API's runs end theirs
   * their own way (interrupted, or rolled back). True when it took the cancel.
   */
  remoteCancelHandler: ((executionId: string, action: CancelAction) => boolean) | null = null;

  constructor(parts: EngineParts) {
    this.config = parts.config;
    this.store = parts.store;
    this.gateway = parts.gateway;
    this.egress = parts.egress;
    this.supply = parts.supply;
    this.admission = parts.admission;
    this.observers = parts.observers ?? new Observers();
    this.peers = new Peers({
      store: this.store,
      engineId: this.engineId,
      port: this.config.port,
      leaseMs: this.config.engineLeaseMs,
      pollMs: this.config.clusterPollMs,
      observers: this.observers,
      onCancel: (id, action) => {
        if (this.remoteCancelHandler?.(id, action)) return;
        this.running.get(id)?.cancel.abort("cancelled by request");
      },
      onDeclaredDead: () => {
        // Its executions were failed and their threads freed by a peer: running on would write
        // to threads that another engine may now run.
        for (const running of this.running.values()) running.cancel.abort("this engine's lease lapsed");
      },
    });
  }

  /**
   * Starts the gateway and the sandbox supply, takes this engine's lease and fails what dead
   * engines left running (only theirs: a live peer's executions are never touched). Idempotent.
   */
  start(): Promise<void> {
    this.started ??= (async () => {
      await this.gateway.listen();
      this.egress?.setGatewayPort(Number(new URL(this.gateway.url).port));
      // Refuses to serve when programs could not be isolated, unless the operator opted out.
      await this.supply.start();
      await this.peers.start();
    })();
    return this.started;
  }

  /**
   * Once the server listens on `port`: an engine that died at this address (kill -9, then a
   * restart) is taken over now, its executions failed and threads freed, not when its lease lapses.
   */
  listening(port: number): Promise<void> {
    this.started = this.start().then(async () => {
      await this.peers.takeOverAddress(port);
    });
    return this.started;
  }

  get inFlight(): number {
    return this.running.size;
  }

  /**
   * Runs one execution to its outcome. Never throws for anything the program does; throws a
   * GraphboxError when the request cannot run at all (over the admission limits, no runtime,
   * thread busy or of the other runtime).
   */
  async execute({ request, owner, ...hooks }: ExecuteOptions): Promise<ExecutionOutcome> {
    // Admitted here, not by the caller: whoever asks, the engine's limits hold (429/503 before anything runs).
    const ticket = await this.admission.acquire(owner);
    try {
      await this.start();
      const runtime = this.runtimeOf(request.language);
      // A run of the Agent API is its execution: one id for both.
      const id = request.run?.runId ?? randomUUID();
      const thread: ThreadRef = { owner, threadId: request.threadId };

      const lock = await this.store.threads.tryLock(thread, id, THREAD_LOCK_TTL_MS);
      if (!lock.acquired)
        throw new GraphboxError(
          "GBX_ERR_THREAD_BUSY",
          `thread ${JSON.stringify(request.threadId)} is busy with execution ${lock.heldBy}; retry when it has ended`,
        );
      const renew = setInterval(() => {
        this.store.threads
          .tryLock(thread, id, THREAD_LOCK_TTL_MS)
          .catch((err: unknown) => this.observers.engineFault("thread_lock", err));
      }, THREAD_LOCK_TTL_MS / 3);
      try {
        await this.admit(request, thread, runtime.name);
        await this.store.executions.create({
          id,
          threadId: request.threadId,
          owner,
          runtime: runtime.name,
          engineId: this.engineId,
          context: request.context,
        });
        const info: ExecutionInfo = {
          id,
          owner,
          threadId: request.threadId,
          runtime: runtime.name,
          language: request.language,
          queueMs: ticket.queueMs,
        };
        return await this.run(request, info, thread, runtime, hooks);
      } finally {
        clearInterval(renew);
        await this.store.threads.unlock(thread, id);
      }
    } finally {
      ticket.release();
    }
  }

  /** Refuses what cannot run on this thread, before anything is recorded. */
  private async admit(request: ExecutionRequest, thread: ThreadRef, runtime: RuntimeName): Promise<void> {
    const existing = await this.store.threads.get(thread);
    if (existing && existing.runtime !== null && existing.runtime !== runtime) {
      throw new GraphboxError(
        "GBX_ERR_THREAD_RUNTIME",
        `thread ${JSON.stringify(thread.threadId)} was written by the ${existing.runtime} runtime; a ${request.language} program cannot continue it`,
      );
    }
    // A run's Command(update=..., goto=...) may start a thread, as in LangGraph.
    if (request.inputs === null && request.resume === null && !request.run?.command) {
      // Whether there is one, without loading its blob (a specific id is looked up as such).
      const checkpoints = this.store.checkpoints;
      const head = !existing
        ? null
        : request.checkpointId
          ? await checkpoints.getTuple(thread, { checkpointId: request.checkpointId })
          : await checkpoints.getHeadState(thread);
      if (!head) {
        throw new GraphboxError(
          "GBX_ERR_NOTHING_TO_CONTINUE",
          `\`inputs\` is null but thread ${JSON.stringify(thread.threadId)} has no checkpoint to continue from; send inputs to start it`,
        );
      }
    }
    await this.store.threads.ensure({ ...thread, runtime });
  }

  private async run(
    request: ExecutionRequest,
    info: ExecutionInfo,
    thread: ThreadRef,
    runtime: NonNullable<ReturnType<typeof runtimeFor>>,
    hooks: RunHooks,
  ): Promise<ExecutionOutcome> {
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
          execution?.fail(
            "GBX_ERR_INTERNAL",
            `the engine could not record an event: ${err instanceof Error ? err.message : String(err)}`,
          );
        });
      return appended;
    };
    const executionHooks: ExecutionHooks = {
      onEvent: record,
      signal: AbortSignal.any(signals),
      onSandboxReady: (ms) => this.observers.sandboxStarted(runtime.name, ms),
    };
    execution = new Execution(
      this.config,
      request,
      {
        id,
        runtime,
        gateway: this.gateway,
        ...(this.egress ? { egress: this.egress } : {}),
        supply: this.supply,
        checkpoints: this.harnessCheckpoints(runtime.name),
        thread,
        items: this.store.items,
      },
      executionHooks,
    );
    const promise = execution.run();
    this.running.set(id, { promise, cancel });
    try {
      const outcome = await promise;
      this.tearDownLater(execution);
      await execution.settled();
      await appended;
      await this.finish(id, thread, outcome, { ...hooks, threadState: execution.threadState });
      this.observers.executionEnded(info, outcome);
      return outcome;
    } finally {
      this.running.delete(id);
    }
  }

  private async finish(
    id: string,
    thread: ThreadRef,
    outcome: ExecutionOutcome,
    hooks: RunHooks & { threadState: Record<string, unknown> | null },
  ): Promise<void> {
    const terminal: TerminalEvent =
      outcome.status === "error" ? { type: "error", ...outcome } : { type: "complete", ...outcome };
    const metadata = outcome.status === "error" ? outcome.metadata : outcome.result.metadata;
    const status =
      outcome.status === "error" ? (outcome.error_type === "cancelled" ? "cancelled" : "error") : outcome.status;
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
    const head =
      outcome.status === "error"
        ? undefined
        : {
            checkpointId: metadata.checkpoint_id,
            next: metadata.next,
            interrupts: metadata.interrupts,
            threadState: hooks.threadState,
          };
    await this.store.threads.setStatus(
      thread,
      status === "success" ? "idle" : status === "interrupted" ? "interrupted" : "error",
      head,
    );
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

  /**
   * Runs an op other than `run` on a program in a sandbox of its own (its thread's state, history,
   * an update of its state, its graph's drawing) and returns the harness's answer (JSON). No
   * execution record, no events; no node runs and no LLM call is allowed. Throws a GraphboxError:
   * the program's own failure as GBX_ERR_SYNTAX / GBX_ERR_PROGRAM / GBX_ERR_NO_APP /
   * GBX_ERR_INVALID_REQUEST with its message, a sandbox failure as GBX_ERR_SANDBOX, and so on.
   */
  async inspect({ owner, program, threadId, op, args, signal }: InspectOptions): Promise<unknown> {
    const ticket = await this.admission.acquire(owner);
    try {
      await this.start();
      const runtime = this.runtimeOf(program.language);
      const c = this.config;
      const request: ExecutionRequest = {
        ...program,
        languageDetected: false,
        inputs: null,
        resume: null,
        // `describe` reads no thread: a fresh id no one else has keeps its checkpointer empty.
        threadId: threadId ?? randomUUID(),
        debug: false,
        breakpoints: [],
        timeoutMs: c.defaultTimeoutMs,
        recursionLimit: c.recursionLimit,
        checkpointId: null,
        // No node runs, so no LLM call may either.
        maxTokens: 0,
        configurable: {},
        context: null,
        stream: false,
      };
      const execution = new Execution(
        c,
        request,
        {
          id: randomUUID(),
          runtime,
          gateway: this.gateway,
          supply: this.supply,
          checkpoints: this.harnessCheckpoints(runtime.name),
          thread: { owner, threadId: request.threadId },
          items: this.store.items,
          op: { op, args },
        },
        { signal: AbortSignal.any([this.cancelAll.signal, ...(signal ? [signal] : [])]) },
      );
      const ending = await execution.runOp();
      this.tearDownLater(execution);
      await execution.settled();
      switch (ending.kind) {
        case "answer":
          return ending.data;
        case "failure":
          throw new GraphboxError(FAILURE_CODES[ending.message.error_type], ending.message.error);
        case "engine":
          throw new GraphboxError(ending.code, ending.error);
        case "result":
          throw new GraphboxError("GBX_ERR_SANDBOX", `the runtime answered a ${op} job with a run's result`);
      }
    } finally {
      ticket.release();
    }
  }

  private runtimeOf(language: Language): NonNullable<ReturnType<typeof runtimeFor>> {
    const runtime = runtimeFor(language);
    if (!runtime)
      throw new GraphboxError(
        "GBX_ERR_RUNTIME_UNAVAILABLE",
        `the ${language} runtime is not available in this engine: its packages are not installed (run \`npm run setup\`)`,
      );
    return runtime;
  }

  /** The sandbox is killed already; reaping it and removing its files is not the caller's wait, but close() waits for it. */
  private tearDownLater(execution: Execution): void {
    const released = execution.released().catch(() => undefined);
    this.teardowns.add(released);
    released.then(
      () => this.teardowns.delete(released),
      () => undefined,
    );
  }

  /**
   * Cancels a running execution of this owner, here or on the engine that runs it, and waits
   * (at most `waitMs`) until it has ended; false when it was not running.
   */
  async cancel(owner: string, id: string, waitMs = 10_000): Promise<boolean> {
    const execution = await this.store.executions.get(owner, id);
    if (!execution || execution.status !== "running") return false;
    const running = this.running.get(id);
    if (running) {
      running.cancel.abort("cancelled by request");
      await running.promise.catch(() => undefined);
      return true;
    }
    if (!(await this.store.executions.requestCancel(owner, id, "interrupt"))) return false;
    await this.endOf(owner, id, execution.lastEventSeq, waitMs);
    return true;
  }

  /** Resolves when the execution's log ends (it ended, wherever it runs), or after `waitMs`. */
  async endOf(owner: string, id: string, afterSeq: number, waitMs: number): Promise<void> {
    const signal = AbortSignal.timeout(waitMs);
    for await (const event of this.store.events.follow(owner, id, afterSeq, { signal })) void event;
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
    await this.peers.stop();
    await this.supply.close();
    this.egress?.close();
    if (this.started) await this.gateway.close();
  }
}

export const statusOf = (outcome: ExecutionOutcome): number =>
  outcome.status === "error" ? ERRORS[outcome.code].status : 200;
