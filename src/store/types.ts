/**
 * The store's one interface: threads (with their run lock), executions, each execution's event
 * log, and LangGraph checkpoints by thread. SQLite implements it (`sqlite/`); PostgreSQL is meant
 * to be the second implementation, so nothing here names an SQLite type, every method returns a
 * Promise, blobs are `Uint8Array`, times are milliseconds since the epoch and JSON values are
 * plain JavaScript values.
 *
 * Ownership: a thread is identified by its owner (the API key's name) *and* its `thread_id`, so
 * two keys may both use `thread_id: "1"` and never see each other's state; an execution belongs
 * to its owner. Every read a client can cause takes the owner and finds nothing of another owner.
 */

import type { Language, RuntimeName } from "../contract/types.ts";

/** Milliseconds since the Unix epoch. */
export type EpochMs = number;

/** A thread as a client names it: the API key's name and the client's `thread_id`. */
export interface ThreadRef {
  owner: string;
  threadId: string;
}

// ---------------------------------------------------------------------------------------------
// Threads

/** LangGraph Platform's thread statuses: what the last execution left the thread as. */
export type ThreadStatus = "idle" | "busy" | "interrupted" | "error";

export interface ThreadRecord extends ThreadRef {
  /** The runtime of its first execution; null for a thread made by `POST /threads` that has not run yet. */
  runtime: RuntimeName | null;
  status: ThreadStatus;
  /** The Agent API's thread metadata (JSON); runs stamp `graph_id` and `assistant_id` into it. */
  metadata: Record<string, unknown>;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface NewThread extends ThreadRef {
  /** null: decided by the first execution (ensure sets it then). */
  runtime: RuntimeName | null;
  /** Default `idle`. */
  status?: ThreadStatus;
  /** Default {}. */
  metadata?: Record<string, unknown>;
}

export interface ThreadSearch {
  /** Only threads whose metadata has each of these keys with an equal (deep) value. */
  metadata?: Record<string, unknown>;
  status?: ThreadStatus;
  /** Only these thread ids. */
  ids?: string[];
  /** Default 10, at most 1000. */
  limit?: number;
  offset?: number;
  /** Default `created_at`, `desc` (LangGraph's server: newest first). */
  sortBy?: "thread_id" | "status" | "created_at" | "updated_at";
  sortOrder?: "asc" | "desc";
}

/**
 * What a result said of the thread's head, beside the checkpoint itself: the engine cannot read a
 * runtime's checkpoint blob, so `next` and `interrupts` (which LangGraph computes from the graph)
 * are kept from the result, tagged with the checkpoint they describe.
 */
export interface ThreadHead {
  checkpointId: string | null;
  next: string[];
  interrupts: unknown[];
  /** LangGraph's `ThreadState` of that checkpoint as the harness computed it at the run's end (JSON); absent: not known. */
  threadState?: Record<string, unknown> | null;
}

/** Outcome of `ThreadStore.tryLock`. */
export type LockAttempt =
  | { acquired: true; expiresAt: EpochMs }
  /** Another execution holds a live lock: answer 409 naming it. */
  | { acquired: false; heldBy: string; expiresAt: EpochMs };

export interface ListOptions {
  /** Default 100, at most 1000. */
  limit?: number;
}

export interface ThreadStore {
  /**
   * Creates the thread unless the owner already has one by that id; either way returns the
   * stored thread. A thread keeps the runtime that created it: compare `thread.runtime` with
   * the request's to refuse the other runtime. A stored thread whose runtime is null takes the
   * given one.
   */
  ensure(thread: NewThread): Promise<{ thread: ThreadRecord; created: boolean }>;
  /** Merges `metadata` into the thread's (shallow, as LangGraph's server does) and touches updatedAt; null when absent. */
  updateMetadata(ref: ThreadRef, metadata: Record<string, unknown>): Promise<ThreadRecord | null>;
  /** The owner's threads matching the search (the Agent API's `POST /threads/search`). */
  search(owner: string, search?: ThreadSearch): Promise<ThreadRecord[]>;
  count(owner: string, search?: Omit<ThreadSearch, "limit" | "offset" | "sortBy" | "sortOrder">): Promise<number>;
  /** The thread, or null when it does not exist or belongs to another owner. */
  get(ref: ThreadRef): Promise<ThreadRecord | null>;
  /** The owner's threads, most recently updated first. */
  list(owner: string, options?: ListOptions): Promise<ThreadRecord[]>;
  /**
   * Sets the status and `updatedAt`; false when there is no such thread. With `head`, also keeps
   * what the execution's result said of the thread's head (see `getHead`); without, the kept one stays.
   */
  setStatus(ref: ThreadRef, status: ThreadStatus, head?: ThreadHead): Promise<boolean>;
  /** What the last execution that reached a result said of the thread's head; null when none did. */
  getHead(ref: ThreadRef): Promise<ThreadHead | null>;
  /** Deletes the thread, its checkpoints, pending writes, lock and runs (not its executions); false when absent. */
  delete(ref: ThreadRef): Promise<boolean>;
  /**
   * Takes the thread's exclusive run lock for `executionId` for `ttlMs`, unless another execution
   * holds a lock that has not expired. The thread need not exist yet (lock, then `ensure`, so two
   * requests creating one thread cannot both run). Calling it again with the holder's
   * `executionId` extends the lock: a long execution renews it before `ttlMs` runs out, and a dead
   * engine's locks lapse after their TTL.
   */
  tryLock(ref: ThreadRef, executionId: string, ttlMs: number): Promise<LockAttempt>;
  /** Releases the lock if `executionId` holds it (a lapsed holder cannot free its successor's lock). */
  unlock(ref: ThreadRef, executionId: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Executions

export type ExecutionStatus = "running" | "success" | "interrupted" | "error" | "cancelled";

export interface ExecutionRecord {
  id: string;
  threadId: string;
  owner: string;
  runtime: RuntimeName;
  status: ExecutionStatus;
  /** The contract's `error_type` when status is `error` or `cancelled`. */
  errorType: string | null;
  error: string | null;
  /** The engine instance that ran it (see `markRunningAsFailed`). */
  engineId: string | null;
  startedAt: EpochMs;
  endedAt: EpochMs | null;
  durationMs: number | null;
  tokensUsed: number;
  nodesExecuted: string[];
  /** The final answer as sent to the client (JSON), once ended. */
  result: unknown;
  /** The run's LangGraph context as the request gave it (`config.context`, JSON); null when none. */
  context: Record<string, unknown> | null;
  /** Seq of the last event in its log (0: none). */
  lastEventSeq: number;
}

export interface NewExecution {
  id: string;
  threadId: string;
  owner: string;
  runtime: RuntimeName;
  engineId?: string | null;
  /** The request's `config.context`. Default: null. */
  context?: Record<string, unknown> | null;
  /** Default: now. */
  startedAt?: EpochMs;
}

export interface ExecutionProgress {
  tokensUsed?: number;
  nodesExecuted?: string[];
}

/** How an execution ended. */
export interface ExecutionEnding {
  status: Exclude<ExecutionStatus, "running">;
  errorType?: string | null;
  error?: string | null;
  tokensUsed?: number;
  nodesExecuted?: string[];
  result?: unknown;
  /** Default: now. */
  endedAt?: EpochMs;
  /** Default: endedAt − startedAt. */
  durationMs?: number;
}

export interface MarkFailedOptions {
  /** Only executions started by this engine instance (several engines on one database). Default: all. */
  engineId?: string;
  /**
   * Only executions whose engine holds no lease (`ClusterStore`): its lease expired and was
   * reaped, it left, or it never had one. The sweep that every engine runs: it never touches a
   * live engine's executions. Ignored with `engineId`.
   */
  ofDeadEngines?: boolean;
  /**
   * The event to end each failed execution's log with (the contract's `error` event), so a
   * client that reconnects sees its stream end like any other. Appended in the same transaction.
   */
  finalEvent?: (execution: ExecutionRecord) => NewEvent;
}

export interface ExecutionStore {
  create(execution: NewExecution): Promise<ExecutionRecord>;
  /** The execution, or null when it does not exist or belongs to another owner. */
  get(owner: string, id: string): Promise<ExecutionRecord | null>;
  /** The owner's executions, newest first, optionally of one thread. */
  list(owner: string, options?: ListOptions & { threadId?: string }): Promise<ExecutionRecord[]>;
  /** Updates the counters of a running execution; false when it is not running. */
  updateProgress(id: string, progress: ExecutionProgress): Promise<boolean>;
  /**
   * Ends a running execution, appending `finalEvent` (the stream's `complete` or `error`) to its
   * log in the same transaction. The first ending wins: `finished` is false, and nothing is
   * written, when the execution is unknown or already ended.
   */
  finish(
    id: string,
    ending: ExecutionEnding,
    finalEvent?: NewEvent,
  ): Promise<{ finished: boolean; event: StoredEvent | null }>;
  /**
   * At engine start: every execution still `running` (its engine died) becomes `error` with
   * error_type `internal_error` and `reason`, and its thread lock is released. Returns their ids.
   */
  markRunningAsFailed(reason: string, options?: MarkFailedOptions): Promise<string[]>;
  /**
   * Asks the engine that runs the execution to cancel it (`POST /executions/{id}/cancel` on any
   * engine): recorded on the execution and signalled on `store.signals.cancels` with the engine's
   * id as key. False when it is not running (or not the owner's).
   */
  requestCancel(owner: string, id: string, action: CancelAction): Promise<boolean>;
  /** The cancels asked of this engine's running executions, each handed out once. */
  takeCancelRequests(engineId: string): Promise<{ executionId: string; action: CancelAction }[]>;
}

/** How a cancel ends an execution: `interrupt` (error_type cancelled; a run ends `interrupted`) or `rollback` (an Agent API run ends `error` and its thread goes back). */
export type CancelAction = "interrupt" | "rollback";

// ---------------------------------------------------------------------------------------------
// Event log

export interface NewEvent {
  /** The SSE event name (`metadata`, `node_start`, ..., `complete`, `error`). */
  type: string;
  /** JSON-serialisable. */
  data: unknown;
}

export interface StoredEvent extends NewEvent {
  executionId: string;
  /** 1, 2, 3... within its execution: the SSE `id:`. */
  seq: number;
  createdAt: EpochMs;
  /** `data` as the JSON text the store holds: streamed as it is, never serialised again. */
  json: string;
}

export interface FollowOptions {
  /** Ends the iteration (without error) when aborted. */
  signal?: AbortSignal;
}

export interface EventLog {
  /** Appends to a running execution's log; null (nothing written) when it is unknown or has ended. */
  append(executionId: string, event: NewEvent): Promise<StoredEvent | null>;
  /**
   * Events with seq > `afterSeq` (SSE `Last-Event-ID`), oldest first; empty for another owner's
   * execution. At most `limit` (default 1000) events and about 4 MiB of event data (always at
   * least one event): read again after the last seq for more.
   */
  read(owner: string, executionId: string, afterSeq: number, options?: ListOptions): Promise<StoredEvent[]>;
  /**
   * Events with seq > `afterSeq` as they are appended, oldest first. Ends once the execution has
   * ended and every event is delivered, when `signal` aborts, or when the store closes. Ends at
   * once for an unknown execution or another owner's.
   */
  follow(owner: string, executionId: string, afterSeq: number, options?: FollowOptions): AsyncIterable<StoredEvent>;
}

// ---------------------------------------------------------------------------------------------
// Checkpoints (LangGraph's BaseCheckpointSaver, one thread at a time)

/**
 * A value as LangGraph's serializer gives it: `serde.dumps_typed(x) -> (type, bytes)` in
 * Python, `serde.dumpsTyped(x) -> [type, Uint8Array]` in JS. The store never looks inside.
 */
export interface TypedBlob {
  type: string;
  bytes: Uint8Array;
}

/** LangGraph's checkpoint metadata (`source`, `step`, `parents`, ...): JSON. */
export type CheckpointMetadata = Record<string, unknown>;

export interface NewCheckpoint {
  /** Default "" (the root graph; subgraphs use `parent_ns:task_id`). */
  checkpointNs?: string;
  /** LangGraph's UUIDv6: sorts by time. */
  checkpointId: string;
  /** The checkpoint this one follows (the config's `checkpoint_id` at `put`). */
  parentCheckpointId?: string | null;
  checkpoint: TypedBlob;
  metadata: CheckpointMetadata;
  /** A JSON view of the state at this checkpoint, for the thread APIs (the blob is the runtime's own format). */
  values?: unknown;
}

export interface PendingWrite {
  taskId: string;
  taskPath: string;
  /** Position in the task's writes, or LangGraph's negative index for special channels. */
  idx: number;
  channel: string;
  value: TypedBlob;
}

export interface CheckpointTuple {
  threadId: string;
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | null;
  checkpoint: TypedBlob;
  metadata: CheckpointMetadata;
  /** The JSON view of the state given at `put`, or null. */
  values: unknown;
  /** Writes of tasks of this checkpoint's next step, by task id then idx. */
  pendingWrites: PendingWrite[];
  createdAt: EpochMs;
}

export interface WritesTarget {
  /** Default "". */
  checkpointNs?: string;
  checkpointId: string;
  taskId: string;
  /** Default "". */
  taskPath?: string;
}

/** A checkpoint without its blob or writes: what the thread APIs show. */
export interface CheckpointState {
  checkpointNs: string;
  checkpointId: string;
  parentCheckpointId: string | null;
  metadata: CheckpointMetadata;
  /** The JSON view of the state given at `put`, or null. */
  values: unknown;
  createdAt: EpochMs;
}

export interface CheckpointWriteOptions {
  /**
   * Refuse the write (GBX_STORE_QUOTA_EXCEEDED, nothing written) when the thread's stored
   * checkpoint bytes (blobs, metadata, values and pending writes) would pass this. Default: none.
   */
  maxThreadBytes?: number;
}

export interface CheckpointReadOptions {
  /**
   * Bytes (blobs and pending writes) one read may load. `getTuple` refuses a checkpoint over it
   * (GBX_STORE_READ_TOO_LARGE); `list` stops before the tuple that would pass it, and refuses
   * only when the first one alone does. Default: none.
   */
  maxBytes?: number;
}

export interface CheckpointListOptions extends CheckpointReadOptions {
  /** Only this namespace; default: every namespace (as LangGraph's `list` without `checkpoint_ns`). */
  checkpointNs?: string;
  /** Only checkpoints older than this id. */
  before?: string;
  limit?: number;
  /** Only checkpoints whose metadata has each of these keys with an equal (deep) value. */
  filter?: CheckpointMetadata;
}

export interface CheckpointStore {
  /**
   * The given checkpoint, or the namespace's head: the one the store wrote last (never the
   * greatest id); null when there is none.
   */
  getTuple(
    ref: ThreadRef,
    options?: { checkpointNs?: string; checkpointId?: string | null } & CheckpointReadOptions,
  ): Promise<CheckpointTuple | null>;
  /** The namespace's head (default the root) without its blob or writes; null when there is none. */
  getHeadState(ref: ThreadRef, options?: { checkpointNs?: string }): Promise<CheckpointState | null>;
  /** Newest first. */
  list(ref: ThreadRef, options?: CheckpointListOptions): Promise<CheckpointTuple[]>;
  /**
   * Stores a new checkpoint. Its id must sort after every id already in the thread's namespace
   * (LangGraph's ids are time-ordered UUIDv6), else GBX_STORE_CHECKPOINT_NOT_NEWER and nothing is
   * written: a checkpoint is never replaced, and a program cannot slip one in before the head.
   * A time-travel fork's checkpoints are new, so they pass; their parent is older than the head.
   */
  put(ref: ThreadRef, checkpoint: NewCheckpoint, options?: CheckpointWriteOptions): Promise<void>;
  /**
   * Stores a task's writes against a checkpoint. Idempotent per (task, idx) as LangGraph's savers
   * are: a write with a negative idx (errors, interrupts, resumes, scheduled) replaces the
   * stored one; any other is kept as first written.
   */
  putWrites(
    ref: ThreadRef,
    target: WritesTarget,
    writes: { idx: number; channel: string; value: TypedBlob }[],
    options?: CheckpointWriteOptions,
  ): Promise<void>;
  /** Deletes every checkpoint and write of the thread (LangGraph's `delete_thread`). */
  deleteThread(ref: ThreadRef): Promise<void>;
}

// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Engines sharing one database

/** An engine's lease: it is alive while `expiresAt` is ahead; a peer reaps it after. */
export interface EngineLease {
  engineId: string;
  /** Where it serves (host:port) or its host name: for /ready and logs. */
  address: string;
  startedAt: EpochMs;
  heartbeatAt: EpochMs;
  expiresAt: EpochMs;
}

export interface ClusterStore {
  /**
   * Registers the engine or renews its lease until now + `ttlMs`. False when its lease had
   * expired and a peer reaped it (its executions were failed): the engine has been declared dead,
   * cancels what it still runs, and is registered again by this call.
   */
  heartbeat(engine: { engineId: string; address: string }, ttlMs: number): Promise<boolean>;
  /** Engines whose lease has not expired, oldest first. */
  live(): Promise<EngineLease[]>;
  /** Deletes the leases that have expired (each reaped by one caller) and returns their engine ids. */
  reapExpired(): Promise<string[]>;
  /** A clean stop: the engine's lease is removed at once. */
  leave(engineId: string): Promise<void>;
}

/** Wakes whoever waits on a key: the event log's followers, an engine's cancels, a thread's runs. */
export interface EventNotifier {
  /** Wakes the followers of `executionId` (new event, or the execution ended). */
  publish(executionId: string): void;
  /** Calls `listener` on each publish for `executionId` until the returned function is called. */
  subscribe(executionId: string, listener: () => void): () => void;
}

/**
 * Wake-ups between engines. Each is a hint, never data: whoever is woken re-reads the store, and
 * polls it anyway (a signal may be lost with a connection). SQLite: in this process;
 * PostgreSQL: LISTEN/NOTIFY, so a signal reaches every engine on the database. Keys are hashed
 * by the backend when they are long, so a payload stays small.
 */
export interface StoreSignals {
  /** Key: an execution id. An event was appended or the execution ended. */
  readonly events: EventNotifier;
  /** Key: the engine id. A cancel was asked of one of its executions. */
  readonly cancels: EventNotifier;
  /** Key: `runsKey(owner, threadId)`, or `RUNS_ANY` when a run became pending. A run of the thread changed. */
  readonly runs: EventNotifier;
}

export interface Store {
  /** `sqlite` or `postgres`: for /ready and logs. */
  readonly backend: string;
  readonly cluster: ClusterStore;
  readonly signals: StoreSignals;
  readonly threads: ThreadStore;
  readonly executions: ExecutionStore;
  readonly events: EventLog;
  readonly checkpoints: CheckpointStore;
  readonly graphs: GraphStore;
  readonly assistants: AssistantStore;
  readonly runs: RunStore;
  /** LangGraph's long-term memory store, per owner. */
  readonly items: ItemStore;
  /** Connections in use, idle and waited for (PostgreSQL's pool; SQLite: one, never waited for). For /metrics. */
  poolStats(): { total: number; idle: number; waiting: number };
  /** Closes the database; ends every `follow`. Idempotent; later calls on the store reject. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// LangGraph's Agent Server API: programs registered at run time, assistants, runs, and the
// long-term memory store (BaseStore) programs reach through the engine. All of it per owner.

/** Sort order of the Agent API's search routes (`sort_order`); newest first by default. */
export interface PageOptions {
  /** Default 10 (the Agent API's default), at most 1000. */
  limit?: number;
  offset?: number;
}

/** A program registered with `PUT /graphs/{graph_id}`. */
export interface GraphRecord {
  owner: string;
  graphId: string;
  language: Language;
  /** The entry module's source. */
  code: string;
  /** The program's other modules by relative path (already checked). */
  files: Record<string, string>;
  /** The variable holding the graph (config.graph), null: the harness finds it. */
  graph: string | null;
  /** 1 at registration, +1 on each replacement. */
  version: number;
  /** What the check at registration found (JSON): nodes and edges, schemas. The engine's own shape. */
  description: Record<string, unknown>;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export type NewGraph = Omit<GraphRecord, "version" | "createdAt" | "updatedAt">;

export interface GraphStore {
  /** Registers the program, or replaces the owner's program of that id (its version + 1). */
  put(graph: NewGraph): Promise<GraphRecord>;
  get(owner: string, graphId: string): Promise<GraphRecord | null>;
  /** The owner's programs, by graph_id. */
  list(owner: string, options?: PageOptions): Promise<GraphRecord[]>;
  /** How many programs the owner has (the per-key limit), without loading them. */
  count(owner: string): Promise<number>;
  /** Deletes the program and its assistants (they could not run; threads and runs stay); false when absent. */
  delete(owner: string, graphId: string): Promise<boolean>;
}

export interface AssistantRecord {
  owner: string;
  assistantId: string;
  graphId: string;
  name: string;
  description: string | null;
  config: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  version: number;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export type NewAssistant = Omit<AssistantRecord, "version" | "createdAt" | "updatedAt">;

export interface AssistantSearch extends PageOptions {
  graphId?: string;
  name?: string;
  /** Only assistants whose metadata has each of these keys with an equal (deep) value. */
  metadata?: Record<string, unknown>;
  sortBy?: "assistant_id" | "graph_id" | "name" | "created_at" | "updated_at";
  sortOrder?: "asc" | "desc";
}

export interface AssistantStore {
  /** null when the owner already has one by that id (the caller applies `if_exists`). */
  create(assistant: NewAssistant): Promise<AssistantRecord | null>;
  get(owner: string, assistantId: string): Promise<AssistantRecord | null>;
  /** Replaces the given fields (metadata merged), version + 1; null when absent. */
  update(
    owner: string,
    assistantId: string,
    patch: Partial<Pick<AssistantRecord, "graphId" | "name" | "description" | "config" | "context" | "metadata">>,
  ): Promise<AssistantRecord | null>;
  delete(owner: string, assistantId: string): Promise<boolean>;
  search(owner: string, search?: AssistantSearch): Promise<AssistantRecord[]>;
  count(owner: string, search?: Omit<AssistantSearch, "limit" | "offset">): Promise<number>;
}

/** LangGraph's run statuses. */
export type RunStatus = "pending" | "running" | "success" | "error" | "timeout" | "interrupted";

export interface RunRecord {
  owner: string;
  runId: string;
  /** null for a stateless run (`POST /runs/stream`) until it has its temporary thread. */
  threadId: string | null;
  assistantId: string;
  /** The execution that runs it, once started. */
  executionId: string | null;
  status: RunStatus;
  metadata: Record<string, unknown>;
  multitaskStrategy: "reject" | "interrupt" | "rollback" | "enqueue";
  /** The run's body as the engine needs it again to start it later (an enqueued run): JSON. */
  kwargs: Record<string, unknown>;
  /** The engine that has claimed it (to start it, or running it); null: any engine may take it. */
  engineId: string | null;
  /** The thread's head when it started: where a `rollback` returns the thread to (null: the thread was empty). */
  startedFrom: string | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export type NewRun = Omit<RunRecord, "executionId" | "engineId" | "startedFrom" | "createdAt" | "updatedAt"> & {
  executionId?: string | null;
  /** Claimed at creation by the engine that starts it now; default null (queued for any engine). */
  engineId?: string | null;
};

export interface RunStore {
  create(run: NewRun): Promise<RunRecord>;
  get(owner: string, runId: string): Promise<RunRecord | null>;
  /** The thread's runs, newest first, optionally of one status. */
  list(owner: string, threadId: string, options?: PageOptions & { status?: RunStatus }): Promise<RunRecord[]>;
  /** Sets the status (and the execution and where it started from, once known); false when absent. */
  update(
    runId: string,
    change: { status: RunStatus; executionId?: string; startedFrom?: string | null },
  ): Promise<boolean>;
  delete(owner: string, runId: string): Promise<boolean>;
  /** The thread's oldest `pending` run (an enqueued one waits for the thread), or null. */
  nextPending(owner: string, threadId: string): Promise<RunRecord | null>;
  /**
   * The durable queue: claims for `engineId` the oldest pending, unclaimed run whose thread has no
   * other run running or claimed and no older pending run, optionally only on one thread. Atomic
   * across engines: two claimers never get the same run (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
   */
  claimNext(engineId: string, thread?: ThreadRef): Promise<RunRecord | null>;
  /** Gives a claimed, still pending run back to the queue (it could not start here yet); false when not claimed by `engineId`. */
  unclaim(runId: string, engineId: string): Promise<boolean>;
  /**
   * After engines died: their `running` runs become `error`, and their claimed `pending` runs go
   * back to the queue (nothing accepted is lost). Only runs whose engine holds no lease, or none.
   */
  recoverFromDeadEngines(): Promise<{ failed: string[]; requeued: string[] }>;
}

/** An item of LangGraph's long-term memory store (`BaseStore`). */
export interface ItemRecord {
  namespace: string[];
  key: string;
  value: Record<string, unknown>;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

export interface ItemSearch extends PageOptions {
  /** Items whose namespace starts with these labels. */
  namespacePrefix: string[];
  /** Only items whose value has each of these keys with an equal (deep) value. */
  filter?: Record<string, unknown>;
}

export interface NamespaceSearch extends PageOptions {
  prefix?: string[];
  suffix?: string[];
  maxDepth?: number;
}

export interface ItemLimits {
  /** Refuse (GBX_STORE_QUOTA_EXCEEDED, nothing written) a value whose JSON is over this many bytes. */
  maxItemBytes?: number;
  /** Refuse a new item when the owner already has this many. */
  maxItems?: number;
}

export interface ItemStore {
  get(owner: string, namespace: string[], key: string): Promise<ItemRecord | null>;
  put(
    owner: string,
    item: { namespace: string[]; key: string; value: Record<string, unknown> },
    limits?: ItemLimits,
  ): Promise<void>;
  delete(owner: string, namespace: string[], key: string): Promise<boolean>;
  /** Newest first (updated_at). */
  search(owner: string, search: ItemSearch): Promise<ItemRecord[]>;
  listNamespaces(owner: string, search?: NamespaceSearch): Promise<string[][]>;
}
