/**
 * Runs of LangGraph's Agent API. A run is one execution of a registered program on a thread
 * (same sandbox, limits, gateway metering and `/executions/{id}` record; its id is the run's),
 * with LangGraph's rules around it: one run at a time per thread and `multitask_strategy` for the
 * next (`reject`, `enqueue`, `interrupt`, `rollback`), threads created on demand (`if_not_exists`),
 * stateless runs on a thread of their own, and `graph_id`/`assistant_id` stamped into the
 * thread's metadata.
 *
 * The queue is the store's `pending` runs, shared by every engine on the database. A run started
 * at once is claimed by the engine that accepted it; an enqueued one waits unclaimed, and is taken
 * (`claimNext`, atomic across engines) by the engine whose run on the thread ends, or by any
 * engine's dispatcher, signalled or at its poll. An engine that dies gives its claimed runs back
 * (`recoverFromDeadEngines`), so nothing accepted is lost; its running runs end `error` with their
 * executions. A run on another engine is cancelled through the store (the engine that runs it
 * takes the cancel), and waited for by its signals and polls.
 */
import { randomUUID } from "node:crypto";

import type { Config } from "../config/index.ts";
import { GraphboxError, type ErrorCode } from "../contract/errors.ts";
import type { ExecutionEvent, ExecutionOutcome } from "../contract/types.ts";
import type { Engine } from "../engine/engine.ts";
import { RUNS_ANY, runsKey } from "../store/follow.ts";
import type { CancelAction, RunRecord, RunStatus, Store, ThreadRef } from "../store/types.ts";
import { toRunExecution, type ResolvedAssistant, type RunBody } from "./run-request.ts";
import { runError } from "./run-stream.ts";

export type ResolveAssistant = (owner: string, assistantId: string) => Promise<ResolvedAssistant>;

export interface RunsOptions {
  engine: Engine;
  store: Store;
  config: Readonly<Config>;
  resolveAssistant: ResolveAssistant;
}

interface ActiveRun {
  owner: string;
  threadId: string;
  cancel: AbortController;
  /** Resolves when the execution exists (its events can be followed) or the run ended without one. */
  started: Promise<void>;
  /** Resolves when the run has its final status. */
  ended: Promise<void>;
  /** The thread's head when the run started: where `rollback` returns the thread to. */
  startedFrom: string | null;
  /** How a cancel asked the run to end: `interrupted` (the default), or `rollback` (it ends `error`). */
  cancelledAs: "interrupted" | "rollback" | null;
}

export interface CreateRunOptions {
  owner: string;
  /** null: a stateless run (`POST /runs/...`) on a thread of its own. */
  threadId: string | null;
  body: RunBody;
}

const FINAL: ReadonlySet<RunStatus> = new Set(["success", "error", "timeout", "interrupted"]);

/** The run's status from its execution's outcome; a cancelled run ends `interrupted`, as LangGraph's do. */
export function runStatusOf(outcome: ExecutionOutcome): RunStatus {
  if (outcome.status !== "error") return outcome.status;
  if (outcome.error_type === "cancelled") return "interrupted";
  if (outcome.error_type === "timeout") return "timeout";
  return "error";
}

/**
 * What `wait` and `join` answer, as LangGraph's servers do: the run's last root `values` chunk
 * (the thread's values in LangGraph's own JSON, messages as LangChain's dicts), only
 * `{__interrupt__: [...]}` when it stopped at an interrupt or breakpoint, `{__error__: {error,
 * message}}` when it failed (the message holding the error event's JSON again), and the values so
 * far (or null) when it was cancelled.
 */
export async function runAnswer(store: Store, owner: string, runId: string): Promise<unknown> {
  const execution = await store.executions.get(owner, runId);
  const outcome = (execution?.result ?? null) as ExecutionOutcome | null;
  if (outcome?.status === "error" && outcome.error_type !== "cancelled") {
    const error = runError(outcome);
    return { __error__: { error: error.error, message: JSON.stringify(error) } };
  }
  if (outcome?.status === "interrupted") return { __interrupt__: outcome.result.metadata.interrupts };
  let values: unknown = outcome?.status === "success" ? outcome.result.state : null;
  for (let after = 0; execution;) {
    const page = await store.events.read(owner, runId, after);
    if (page.length === 0) break;
    for (const event of page) {
      const data = event.data as ExecutionEvent;
      if (data.type === "chunk" && data.mode === "values" && data.ns.length === 0) values = data.data;
    }
    after = page.at(-1)!.seq;
  }
  return values;
}

export class Runs {
  private readonly engine: Engine;
  private readonly store: Store;
  private readonly config: Readonly<Config>;
  private readonly resolveAssistant: ResolveAssistant;
  private readonly active = new Map<string, ActiveRun>();

  constructor(options: RunsOptions) {
    this.engine = options.engine;
    this.store = options.store;
    this.config = options.config;
    this.resolveAssistant = options.resolveAssistant;
    // A cancel asked on another engine of a run this engine runs: ended the run's own way.
    this.engine.remoteCancelHandler = (runId, action) => {
      const active = this.active.get(runId);
      if (!active) return false;
      this.endActive(active, action === "rollback" ? "rollback" : "interrupted");
      return true;
    };
  }

  private dispatching: { stop: () => void } | null = null;

  /**
   * Takes queued runs for this engine while it has a free slot: when a run becomes pending
   * anywhere (signalled) and every poll. Idempotent; `stopDispatching` ends it.
   */
  startDispatching(): void {
    if (this.dispatching) return;
    let busy = false;
    // After a run went back to the queue, signals are ignored until the next poll: a put-back
    // signals the queue itself, and its thread may stay held for a while.
    let quietUntil = 0;
    const dispatch = (signalled: boolean): void => {
      if (busy || (signalled && Date.now() < quietUntil)) return;
      busy = true;
      void this.dispatch()
        .then((putBack) => {
          if (putBack) quietUntil = Date.now() + this.config.clusterPollMs;
        })
        .catch((err: unknown) => this.engine.observers.engineFault("run_queue", err))
        .finally(() => (busy = false));
    };
    const unsubscribe = this.store.signals.runs.subscribe(RUNS_ANY, () => dispatch(true));
    const timer = setInterval(() => dispatch(false), this.config.clusterPollMs);
    timer.unref();
    this.dispatching = {
      stop: () => {
        clearInterval(timer);
        unsubscribe();
      },
    };
  }

  stopDispatching(): void {
    this.dispatching?.stop();
    this.dispatching = null;
  }

  /** Claims and starts queued runs while there is room; true when one had to go back to the queue. */
  private async dispatch(): Promise<boolean> {
    const { admission } = this.engine;
    while (this.dispatching && admission.inFlight + admission.queued < this.config.maxConcurrent) {
      const run = await this.store.runs.claimNext(this.engine.engineId);
      if (!run) return false;
      // Put back (its thread held by /execute-langgraph, the engine full): tried again at the next poll, not now.
      if (!(await this.startClaimed(run))) return true;
    }
    return false;
  }

  /**
   * Creates a run and starts it, or queues it behind the thread's active run (`enqueue`). Resolves
   * once the run's execution exists (its stream can be followed) or it is queued; throws when the
   * run is refused: unknown assistant or thread, `reject` on a busy thread, over the engine's limits.
   */
  async create({ owner, threadId, body }: CreateRunOptions): Promise<RunRecord> {
    const assistant = await this.resolveAssistant(owner, body.assistant_id);
    const stateless = threadId === null;
    const thread: ThreadRef = { owner, threadId: threadId ?? randomUUID() };
    const existing = await this.store.threads.get(thread);
    if (!existing) {
      if (!stateless && body.if_not_exists !== "create")
        throw new GraphboxError("GBX_ERR_THREAD_NOT_FOUND", `Thread with ID ${thread.threadId} not found`);
      await this.store.threads.ensure({ ...thread, runtime: null, metadata: {} });
    }
    const strategy = body.multitask_strategy ?? "reject";
    const busy = await this.activeRuns(thread);
    if (busy.length > 0 && strategy === "reject") throw rejected(thread.threadId);

    await this.store.threads.updateMetadata(thread, {
      graph_id: assistant.graphId,
      assistant_id: assistant.assistantId,
    });
    // `interrupt` and `rollback` end the thread's runs first; `enqueue` queues behind them.
    const from =
      busy.length > 0 && strategy !== "enqueue"
        ? await this.cancelAll(busy, strategy === "rollback" ? "rollback" : "interrupted")
        : null;
    const runId = randomUUID();
    const queued = busy.length > 0 && strategy === "enqueue";
    const run = await this.store.runs.create({
      owner,
      runId,
      threadId: thread.threadId,
      assistantId: assistant.assistantId,
      status: "pending",
      // As LangGraph's servers: the assistant's metadata, the run's own, and which graph ran.
      metadata: {
        ...assistant.metadata,
        ...(body.metadata ?? {}),
        graph_id: assistant.graphId,
        assistant_id: assistant.assistantId,
      },
      multitaskStrategy: strategy,
      kwargs: { ...body, ...(stateless ? { __stateless: true } : {}) },
      // Started now: claimed by this engine. Enqueued: any engine may take it when the thread frees.
      engineId: queued ? null : this.engine.engineId,
    });
    if (!queued) await this.start(run, assistant, { rollbackTo: from });
    // Enqueued: it stays pending and the active run starts it when it ends (now, if that one just ended).
    else await this.startNext(thread);
    // Its status now: `running` once it has its sandbox (LangGraph's servers answer `pending`).
    return (await this.store.runs.get(owner, runId)) ?? run;
  }

  /** Waits until the run can be streamed: its execution exists, or it ended (or was cancelled) before it had one. */
  async started(owner: string, runId: string, signal?: AbortSignal): Promise<void> {
    for (;;) {
      const active = this.active.get(runId);
      if (active) return active.started;
      const run = await this.store.runs.get(owner, runId);
      if (!run || run.status !== "pending") return;
      // Enqueued: it starts when the runs before it end.
      await this.nextChange(owner, run.threadId, signal);
      if (signal?.aborted) return;
    }
  }

  /** Resolves when the run has ended (at once when it has); the run's record then. */
  async join(owner: string, runId: string, signal?: AbortSignal): Promise<RunRecord | null> {
    for (;;) {
      const run = await this.store.runs.get(owner, runId);
      if (!run || FINAL.has(run.status) || signal?.aborted) return run;
      const active = this.active.get(runId);
      if (active) await abortable(active.ended, signal);
      else await this.nextChange(owner, run.threadId, signal);
    }
  }

  /**
   * Cancels a pending or running run of this owner: it ends `interrupted` (`action: "rollback"`:
   * `error`, and the thread's checkpoints go back to where the run started when it started on an
   * empty thread). False when it had ended.
   */
  async cancel(owner: string, runId: string, action: CancelAction = "interrupt"): Promise<boolean> {
    const run = await this.store.runs.get(owner, runId);
    if (!run || FINAL.has(run.status)) return false;
    await this.cancelAll([run], action === "rollback" ? "rollback" : "interrupted");
    return true;
  }

  /** The thread's runs that are pending or running. */
  private async activeRuns(thread: ThreadRef): Promise<RunRecord[]> {
    const [running, pending] = await Promise.all([
      this.store.runs.list(thread.owner, thread.threadId, { status: "running", limit: 1000 }),
      this.store.runs.list(thread.owner, thread.threadId, { status: "pending", limit: 1000 }),
    ]);
    return [...running, ...pending];
  }

  /** Ends these runs; returns the head the first running one started from (where `rollback` goes back to). */
  private async cancelAll(runs: RunRecord[], as: "interrupted" | "rollback"): Promise<string | null> {
    let from: string | null = null;
    for (const run of runs) {
      const active = this.active.get(run.runId);
      if (active) {
        from ??= active.startedFrom;
        this.endActive(active, as);
        await active.ended;
      } else if (run.status === "running") {
        // On another engine: it takes the cancel from the store and ends the run its own way.
        await this.store.executions.requestCancel(run.owner, run.runId, as === "rollback" ? "rollback" : "interrupt");
        const ended = await this.join(run.owner, run.runId, AbortSignal.timeout(REMOTE_CANCEL_WAIT_MS));
        from ??= ended?.startedFrom ?? null;
      } else if (run.status === "pending") {
        await this.store.runs.update(run.runId, { status: as === "rollback" ? "error" : "interrupted" });
      }
    }
    return from;
  }

  private endActive(active: ActiveRun, as: "interrupted" | "rollback"): void {
    active.cancelledAs = as;
    active.cancel.abort(as === "rollback" ? "rolled back by a new run" : "cancelled by request");
  }

  /**
   * Starts the run here; resolves once its execution exists. Refused before it ran: a run made
   * by this request is deleted (it never was), a queued one is left to its caller (`startClaimed`).
   */
  private async start(
    run: RunRecord,
    assistant: ResolvedAssistant,
    { rollbackTo = null, queued = false }: { rollbackTo?: string | null; queued?: boolean } = {},
  ): Promise<void> {
    if (this.active.has(run.runId)) return;
    const thread: ThreadRef = { owner: run.owner, threadId: run.threadId as string };
    const cancel = new AbortController();
    let markStarted = (): void => undefined;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    let refused: unknown = null;
    // Claimed before the first await, so the queue never starts it twice.
    const active: ActiveRun = {
      owner: run.owner,
      threadId: thread.threadId,
      cancel,
      started,
      ended: Promise.resolve(),
      startedFrom: null,
      cancelledAs: null,
    };
    this.active.set(run.runId, active);
    this.wake(thread);
    active.ended = (async () => {
      try {
        active.startedFrom = rollbackTo ?? (await this.store.checkpoints.getHeadState(thread))?.checkpointId ?? null;
        const request = toRunExecution({
          runId: run.runId,
          threadId: thread.threadId,
          body: run.kwargs as RunBody,
          assistant,
          config: this.config,
          checkpointId: rollbackTo,
        });
        const outcome = await this.engine.execute({
          request,
          owner: run.owner,
          signal: cancel.signal,
          onEvent: (event) => {
            if (event.seq === 1) {
              markStarted();
              this.store.runs
                .update(run.runId, { status: "running", executionId: run.runId, startedFrom: active.startedFrom })
                .catch(() => undefined);
            }
          },
        });
        await this.ended(run, outcome, active);
      } catch (err: unknown) {
        refused = err;
        if (!(queued && retryLater(err))) await this.store.runs.update(run.runId, { status: "error" });
      } finally {
        markStarted();
        this.active.delete(run.runId);
        this.wake(thread);
        await this.startNext(thread);
      }
    })()
      // The store failing to record the end, or the queue to move: the run's waiters still go on.
      .catch((err: unknown) => this.engine.observers.engineFault("run_queue", err));
    await started;
    if (refused !== null && queued) throw refused;
    if (refused !== null && (await this.store.executions.get(run.owner, run.runId)) === null) {
      // Refused before it ran (over the engine's limits, the thread held by /execute-langgraph): the run never was.
      await this.store.runs.delete(run.owner, run.runId);
      throw refused instanceof GraphboxError && refused.code === "GBX_ERR_THREAD_BUSY"
        ? rejected(thread.threadId)
        : refused;
    }
  }

  private async ended(run: RunRecord, outcome: ExecutionOutcome, active: ActiveRun): Promise<void> {
    const thread: ThreadRef = { owner: run.owner, threadId: run.threadId as string };
    // A rolled-back run stays listed as `error`, as on LangGraph's servers; its checkpoints are
    // left behind by the next run, which starts from where this one did.
    await this.store.runs.update(run.runId, {
      status: active.cancelledAs === "rollback" ? "error" : runStatusOf(outcome),
    });
    if (active.cancelledAs === "rollback" && active.startedFrom === null)
      await this.store.checkpoints.deleteThread(thread);
    // LangGraph leaves a cancelled run's thread idle (the engine marks it `error`).
    if (outcome.status === "error" && outcome.error_type === "cancelled")
      await this.store.threads.setStatus(thread, "idle");
    if ((run.kwargs as RunBody & { __stateless?: boolean }).__stateless && run.kwargs["on_completion"] !== "keep")
      await this.store.threads.delete(thread);
  }

  /** Takes the thread's oldest pending run for this engine, if no run is running or claimed on it (anywhere). */
  private async startNext(thread: ThreadRef): Promise<void> {
    const next = await this.store.runs.claimNext(this.engine.engineId, thread);
    if (next) await this.startClaimed(next);
  }

  /**
   * Starts a run this engine claimed from the queue. When it cannot start here yet (the thread
   * held by /execute-langgraph, the engine full) it goes back to the queue; when it cannot start
   * at all (its assistant gone) it ends `error` and the thread's next run gets its turn. False
   * when it went back to the queue.
   */
  private async startClaimed(run: RunRecord): Promise<boolean> {
    const thread: ThreadRef = { owner: run.owner, threadId: run.threadId as string };
    try {
      await this.start(run, await this.resolveAssistant(run.owner, run.assistantId), { queued: true });
    } catch (err: unknown) {
      if (retryLater(err)) {
        await this.store.runs.unclaim(run.runId, this.engine.engineId);
        return false;
      }
      await this.store.runs.update(run.runId, { status: "error" });
      await this.startNext(thread);
    }
    return true;
  }

  private readonly waiters = new Map<string, Set<() => void>>();

  /**
   * Resolves at the next run change on the thread (a run ended or started, here or signalled by
   * another engine), at the next poll (a signal can be lost), or on abort.
   */
  private nextChange(owner: string, threadId: string | null, signal?: AbortSignal): Promise<void> {
    const key = runsKey(owner, threadId ?? "");
    return new Promise<void>((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const unsubscribe = this.store.signals.runs.subscribe(key, () => done());
      const timer = setTimeout(() => done(), this.config.clusterPollMs);
      const done = (): void => {
        set.delete(done);
        if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
        unsubscribe();
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      set.add(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  private wake(thread: ThreadRef): void {
    const key = runsKey(thread.owner, thread.threadId);
    for (const done of [...(this.waiters.get(key) ?? [])]) done();
  }
}

/** How long cancelling a run on another engine waits for it to end before going on. */
const REMOTE_CANCEL_WAIT_MS = 10_000;

/** Refusals that pass: the run waits in the queue and is tried again. */
const RETRY_LATER: ReadonlySet<ErrorCode> = new Set([
  "GBX_ERR_THREAD_BUSY",
  "GBX_ERR_OVERLOADED",
  "GBX_ERR_RATE_LIMITED",
  "GBX_ERR_SHUTTING_DOWN",
]);

const retryLater = (err: unknown): boolean => err instanceof GraphboxError && RETRY_LATER.has(err.code);

function rejected(threadId: string): GraphboxError {
  return new GraphboxError(
    "GBX_ERR_RUN_REJECTED",
    `Thread ${threadId} is already running a task. Wait for it to finish or choose a different multitask strategy.`,
  );
}

const abortable = (promise: Promise<void>, signal?: AbortSignal): Promise<void> =>
  signal
    ? Promise.race([promise, new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()))])
    : promise;
