/**
 * LangGraph's thread shapes as its Agent Server answers them (`Thread`, `ThreadState`, a task,
 * a checkpoint reference), made from what the store keeps or parsed from what a harness computed.
 * A harness runs next to the program, so its JSON is read field by field: only the fields named
 * here leave, each of its type, and nothing it names becomes a key of ours unchecked.
 */
import { isJsonObject } from "../contract/json.ts";
import type { CheckpointState, ThreadHead, ThreadRecord } from "../store/types.ts";

/** LangGraph's checkpoint reference (`runnableConfigToCheckpoint`). */
export interface CheckpointJson {
  thread_id: string;
  checkpoint_id: string;
  checkpoint_ns: string;
  checkpoint_map: Record<string, unknown> | null;
}

/**
 * What a task names when its subgraph has checkpoints (LangGraph's "subgraph checkpoints exist"
 * config): the subgraph's namespace, `name:task_id`, which `POST /threads/{id}/state/checkpoint`,
 * `/state` and `/history` take as `checkpoint` to read or change that subgraph's state.
 */
export interface TaskCheckpointJson {
  thread_id: string;
  checkpoint_ns: string;
}

/** An `interrupt()` waiting for its resume value: `{value, id}` as LangGraph gives it. */
export type InterruptJson = Record<string, unknown>;

export interface TaskJson {
  id: string;
  name: string;
  path: unknown[];
  error: string | null;
  interrupts: InterruptJson[];
  checkpoint: TaskCheckpointJson | null;
  state: ThreadStateJson | null;
  result: unknown;
}

export interface ThreadStateJson {
  values: unknown;
  next: string[];
  tasks: TaskJson[];
  /** Absent where LangGraph's server leaves it out: a thread without checkpoints. */
  metadata?: Record<string, unknown> | null;
  created_at: string | null;
  checkpoint: CheckpointJson | null;
  parent_checkpoint: CheckpointJson | null;
}

export interface ThreadJson {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  status: ThreadRecord["status"];
  config: Record<string, unknown>;
  /** The head checkpoint's values; absent while the thread has none (as LangGraph's JS server). */
  values?: unknown;
  /** Task id → its interrupts, of the head's tasks; absent while the thread has no checkpoint. */
  interrupts?: Record<string, InterruptJson[]>;
}

/**
 * LangGraph's task ids are UUIDs (uuid5 of the checkpoint and the task, in both runtimes); a task
 * a harness sends with any other id is dropped, so a program's `constructor` or `toString` never
 * becomes a key of the Thread's `interrupts`.
 */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/u;
/** `state` of a task nests a subgraph's ThreadState; deeper than this is not LangGraph's doing. */
const MAX_NESTING = 16;

const stringOr = <T>(x: unknown, fallback: T): string | T => (typeof x === "string" ? x : fallback);
const iso = (ms: number): string => new Date(ms).toISOString();

export const checkpointRef = (threadId: string, checkpointId: string, checkpointNs = ""): CheckpointJson => ({
  thread_id: threadId,
  checkpoint_id: checkpointId,
  checkpoint_ns: checkpointNs,
  checkpoint_map: null,
});

export function parseCheckpoint(raw: unknown): CheckpointJson | null {
  if (!isJsonObject(raw) || typeof raw["thread_id"] !== "string" || typeof raw["checkpoint_id"] !== "string")
    return null;
  return {
    thread_id: raw["thread_id"],
    checkpoint_id: raw["checkpoint_id"],
    checkpoint_ns: stringOr(raw["checkpoint_ns"], ""),
    checkpoint_map: isJsonObject(raw["checkpoint_map"]) ? raw["checkpoint_map"] : null,
  };
}

/** Longer than any namespace the engine stores (harness-checkpoints.ts): not LangGraph's doing. */
const MAX_NS_CHARS = 4096;

function parseTaskCheckpoint(raw: unknown): TaskCheckpointJson | null {
  if (!isJsonObject(raw) || typeof raw["thread_id"] !== "string" || typeof raw["checkpoint_ns"] !== "string")
    return null;
  if (raw["checkpoint_ns"].length > MAX_NS_CHARS) return null;
  return { thread_id: raw["thread_id"], checkpoint_ns: raw["checkpoint_ns"] };
}

function parseTask(raw: unknown, depth: number): TaskJson | null {
  if (!isJsonObject(raw) || typeof raw["id"] !== "string" || !TASK_ID.test(raw["id"])) return null;
  const state = depth < MAX_NESTING && isJsonObject(raw["state"]) ? parseThreadState(raw["state"], depth + 1) : null;
  return {
    id: raw["id"],
    name: stringOr(raw["name"], ""),
    path: Array.isArray(raw["path"]) ? raw["path"] : [],
    error: stringOr(raw["error"], null),
    interrupts: Array.isArray(raw["interrupts"]) ? raw["interrupts"].filter(isJsonObject) : [],
    checkpoint: parseTaskCheckpoint(raw["checkpoint"]),
    state,
    result: raw["result"] ?? null,
  };
}

/** A ThreadState as a harness computed it (LangGraph's own `get_state`), kept to LangGraph's fields. */
export function parseThreadState(raw: unknown, depth = 0): ThreadStateJson | null {
  if (!isJsonObject(raw)) return null;
  const tasks = Array.isArray(raw["tasks"]) ? raw["tasks"] : [];
  return {
    values: raw["values"] ?? {},
    next: Array.isArray(raw["next"]) ? raw["next"].filter((n): n is string => typeof n === "string") : [],
    tasks: tasks.map((t) => parseTask(t, depth)).filter((t): t is TaskJson => t !== null),
    metadata: isJsonObject(raw["metadata"]) ? raw["metadata"] : null,
    created_at: stringOr(raw["created_at"], null),
    checkpoint: parseCheckpoint(raw["checkpoint"]),
    parent_checkpoint: parseCheckpoint(raw["parent_checkpoint"]),
  };
}

/** LangGraph's answer for a checkpoint it does not have: empty (no `metadata` key), naming what was asked. */
export function emptyThreadState(checkpoint: CheckpointJson | null): ThreadStateJson {
  return {
    values: {},
    next: [],
    tasks: [],
    created_at: null,
    checkpoint,
    parent_checkpoint: null,
  };
}

/**
 * The ThreadState of a stored checkpoint, without the program: its values and metadata as stored.
 * `next`, `tasks` and the interrupts are LangGraph's to compute from the graph; they are known
 * only for the checkpoint a result described (`head`, when it is this checkpoint), else empty.
 *
 * `values`: `stored` is the contract's JSON view kept with the checkpoint (messages as
 * `{role, content}`, a value JSON cannot hold as `{__type, repr}`), what a thread of
 * /execute-langgraph has always answered; `langgraph` is LangGraph's own, as its harness
 * computed them for the Agent API (falling back to the stored view where it computed none).
 */
export function storedThreadState(options: {
  threadId: string;
  checkpoint: CheckpointState;
  head: ThreadHead | null;
  values: "stored" | "langgraph";
}): ThreadStateJson {
  const { threadId, checkpoint, head } = options;
  const described = head !== null && head.checkpointId === checkpoint.checkpointId ? head : null;
  const computed = described?.threadState ? parseThreadState(described.threadState) : null;
  if (computed) return options.values === "langgraph" ? computed : { ...computed, values: checkpoint.values ?? {} };
  // LangGraph's server drops the root namespace's empty `checkpoint_ns` from the metadata.
  const metadata = { ...checkpoint.metadata };
  if (metadata["checkpoint_ns"] === "") delete metadata["checkpoint_ns"];
  return {
    values: checkpoint.values ?? {},
    next: described?.next ?? [],
    tasks: [],
    metadata,
    created_at: iso(checkpoint.createdAt),
    checkpoint: checkpointRef(threadId, checkpoint.checkpointId, checkpoint.checkpointNs),
    parent_checkpoint:
      checkpoint.parentCheckpointId === null
        ? null
        : checkpointRef(threadId, checkpoint.parentCheckpointId, checkpoint.checkpointNs),
  };
}

/** Every interrupt of the state's tasks, in task order (Graphbox's flat `interrupts`). */
export const interruptsOf = (state: ThreadStateJson): InterruptJson[] => state.tasks.flatMap((t) => t.interrupts);

/**
 * The Thread's `interrupts`: each head task's interrupts by task id, as LangGraph's JS server keeps
 * them (a task waiting at a breakpoint is there with none). A null-prototype map: task ids are
 * checked, and still cannot reach a prototype.
 */
export function interruptsByTask(state: ThreadStateJson): Record<string, InterruptJson[]> {
  const map = Object.create(null) as Record<string, InterruptJson[]>;
  for (const task of state.tasks) map[task.id] = task.interrupts;
  return map;
}

/** The Thread as LangGraph answers it; `head` is the head checkpoint's state, null while it has none. */
export function threadJson(thread: ThreadRecord, head: ThreadStateJson | null): ThreadJson {
  return {
    thread_id: thread.threadId,
    created_at: iso(thread.createdAt),
    updated_at: iso(thread.updatedAt),
    metadata: thread.metadata,
    status: thread.status,
    config: {},
    ...(head ? { values: head.values, interrupts: interruptsByTask(head) } : {}),
  };
}
