/**
 * The one definition of what crosses between the engine and a harness.
 *
 * Every message is a JSON object with `v` (the protocol version) and `type`.
 * The Python harness mirrors this file in `runtimes/python/harness/graphbox_harness/protocol.py`;
 * a message from a harness is untrusted data (the program runs in the same process),
 * so the engine parses and size-checks it here before believing any of it.
 */
import {
  amount,
  type Check,
  count,
  json,
  jsonObject,
  list,
  mapOf,
  MAX_JSON_DEPTH,
  name,
  nestsDeeperThan,
  nullable,
  oneOf,
  ProtocolError,
  record,
  string,
} from "./schema.ts";

export const PROTOCOL_VERSION = 1;

/**
 * What a job asks of the program (absent: `run`). Only `run` executes nodes; the others load the
 * program, attach the engine's checkpointer and store, and answer with one `answer` message:
 * - `state`: LangGraph's `get_state` at `args.checkpoint_id` (null: the head), with
 *   `args.subgraphs`: the Agent API's `ThreadState` as JSON.
 * - `history`: `get_state_history` with `args.limit`, `args.before`, `args.checkpoint_id`,
 *   `args.filter` (metadata): a list of `ThreadState`.
 * - `update_state`: `update_state(args.values, as_node=args.as_node)` from `args.checkpoint_id`
 *   (null: the head): `{checkpoint: {thread_id, checkpoint_ns, checkpoint_id}}`.
 * - `describe`: the compiled graph's drawing (`get_graph(xray=args.xray).to_json()`: nodes, edges
 *   with `conditional`) and its schemas (`input_schema`, `output_schema`, `state_schema`,
 *   `config_schema`, `context_schema`, JSON Schema or null).
 *
 * `state`, `history` and `update_state` work in the namespace `args.checkpoint_ns` ("" or absent:
 * the root graph; `name:task_id|...`: a subgraph's, which LangGraph's get_state/update_state hand
 * to that subgraph, as a task's `checkpoint.checkpoint_ns` names it).
 */
export const JOB_OPS = ["run", "state", "history", "update_state", "describe"] as const;
export type JobOp = (typeof JOB_OPS)[number];

/** LangGraph stream modes a run may forward raw (the Agent API's runs), each chunk as a `chunk` message. */
export const CHUNK_MODES = ["values", "updates", "messages", "custom", "debug", "tasks", "checkpoints"] as const;
export type ChunkMode = (typeof CHUNK_MODES)[number];

/** Operations of LangGraph's BaseStore a harness may ask for; always in the execution owner's store. */
export const STORE_OPS = ["get", "put", "delete", "search", "list_namespaces"] as const;
export type StoreOp = (typeof STORE_OPS)[number];

/** Engine → harness: run this program once. */
export interface JobMessage {
  v: typeof PROTOCOL_VERSION;
  type: "job";
  execution_id: string;
  thread_id: string;
  language: "python" | "javascript" | "typescript";
  /** The entry module's source. */
  code: string;
  /** The program's other modules by relative path (checked by the engine), importable from `code`; absent: none. */
  files?: Record<string, string>;
  /** Absent: `run`. */
  op?: JobOp;
  /** The arguments of an op other than `run` (see JOB_OPS). */
  args?: Record<string, unknown>;
  inputs: unknown;
  resume: unknown;
  /** A run's `Command(update=..., goto=...)` besides `resume` (the Agent API's `command`); absent: none. */
  command?: { update?: unknown; goto?: unknown } | null;
  /** Modes whose raw chunks the harness forwards as `chunk` messages, besides the engine's own events; absent: none. */
  stream_modes?: ChunkMode[];
  /** With stream_modes: subgraphs' chunks too, each with its namespace. */
  subgraphs?: boolean;
  /** True when the caller streams: the harness then also sends `update` and `token` events. */
  stream: boolean;
  /** True for config.debug: the harness sends a `debug` message per step. */
  debug: boolean;
  /** Variables set before the program loads: the execution's gateway credential (never in a waiting sandbox). */
  env: Record<string, string>;
  config: {
    recursion_limit: number;
    configurable: Record<string, unknown>;
    /** LangGraph's run context (Python `context=`, JavaScript `context`); null: none. */
    context: Record<string, unknown> | null;
    interrupt_before: string[];
    interrupt_after: string[];
    checkpoint_id: string | null;
    /** The variable holding the graph to run; null or absent: the harness finds it. */
    graph?: string | null;
    /** The run's metadata, which LangGraph copies into each checkpoint's metadata; absent: none. */
    metadata?: Record<string, unknown>;
  };
}

/**
 * A run config with LangGraph's defaults: nothing configured, no context, no breakpoints, from the
 * thread's head. Jobs built outside an execution (the snapshot's probe, tests, benchmarks) start here.
 */
export function defaultRunConfig(): JobMessage["config"] {
  return {
    recursion_limit: 25,
    configurable: {},
    context: null,
    interrupt_before: [],
    interrupt_after: [],
    checkpoint_id: null,
  };
}

/** Engine → harness: the answer to a harness request (answered in order, one at a time). */
export interface ResponseMessage {
  v: typeof PROTOCOL_VERSION;
  type: "response";
  request_id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export type EngineMessage = JobMessage | ResponseMessage;

/** Checkpoint operations a harness may ask for; always on the execution's own thread. */
export type CheckpointOp = "get_tuple" | "list" | "put" | "put_writes";

export interface CheckpointRequest {
  v: 1;
  type: "checkpoint";
  request_id: number;
  op: CheckpointOp;
  args: Record<string, unknown>;
}

export interface StoreRequest {
  v: 1;
  type: "store";
  request_id: number;
  op: StoreOp;
  args: Record<string, unknown>;
}

export interface UsageMessage {
  v: 1;
  type: "usage";
  model: string;
  node: string | null;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** Harness → engine. */
export type HarnessMessage =
  | { v: 1; type: "ready"; runtime: string; versions: Map<string, string> }
  | { v: 1; type: "node_start"; node: string; step: number }
  | { v: 1; type: "node_end"; node: string; step: number; duration_ms: number; status: "ok" | "error" | "interrupted" }
  /** One chunk of LangGraph's `updates` stream: node name → its update (names are the program's: a Map). */
  | { v: 1; type: "update"; data: Map<string, unknown> }
  | { v: 1; type: "token"; node: string | null; content: string }
  | { v: 1; type: "custom"; data: unknown }
  | { v: 1; type: "debug"; data: Record<string, unknown> }
  /** One raw chunk of a mode the job asked for (`stream_modes`); `ns` is the subgraph's namespace, [] for the root. */
  | { v: 1; type: "chunk"; mode: ChunkMode; ns: string[]; data: unknown }
  /** The answer of an op other than `run`: ends the job like `result` does. */
  | { v: 1; type: "answer"; data: unknown }
  | CheckpointRequest
  | StoreRequest
  | UsageMessage
  | ResultMessage
  | FailureMessage;

export interface ResultMessage {
  v: 1;
  type: "result";
  status: "success" | "interrupted";
  messages: unknown[];
  state: Record<string, unknown>;
  next: string[];
  interrupts: { id: string; value: unknown }[];
  checkpoint_id: string | null;
  /** The thread's head after the run as the `state` op answers it (the Agent API's ThreadState, no subgraphs); null from a harness that sends none. */
  thread_state: Record<string, unknown> | null;
}

export interface FailureMessage {
  v: 1;
  type: "error";
  /** `invalid_request`: the request does not fit the program (e.g. a breakpoint on a node the graph lacks). */
  error_type: "syntax_error" | "program_error" | "no_app" | "invalid_request";
  error: string;
  node: string | null;
  traceback: string;
}

export { ProtocolError };

/** A field a harness may leave out, read as null (a field added to a message after harnesses sent it without). */
const absentAsNull =
  <T>(check: Check<T>): Check<T | null> =>
  (value) =>
    value === undefined ? null : nullable(check)(value);

type Fields<M> = { [K in keyof Omit<M, "v" | "type">]: Check<M[K]> };
type HarnessSchemas = { [T in HarnessMessage["type"]]: Fields<Extract<HarnessMessage, { type: T }>> };

/**
 * The one schema of what a harness may send: every field's type and size. A message is rebuilt
 * from these fields only; anything else in the frame is dropped. Values the program chose
 * (state, updates, custom data) are kept as JSON whose depth was checked with the frame.
 */
const HARNESS: HarnessSchemas = {
  ready: { runtime: name, versions: mapOf(string(256), 64) },
  node_start: { node: name, step: count },
  node_end: { node: name, step: count, duration_ms: amount, status: oneOf("ok", "error", "interrupted") },
  update: { data: mapOf(json, 1024) },
  token: { node: nullable(name), content: string() },
  custom: { data: json },
  debug: { data: jsonObject() },
  chunk: { mode: oneOf(...CHUNK_MODES), ns: list(name, 64), data: json },
  answer: { data: json },
  checkpoint: { request_id: count, op: oneOf("get_tuple", "list", "put", "put_writes"), args: jsonObject(64) },
  store: { request_id: count, op: oneOf(...STORE_OPS), args: jsonObject(64) },
  usage: { model: name, node: nullable(name), input_tokens: count, output_tokens: count, total_tokens: count },
  result: {
    status: oneOf("success", "interrupted"),
    messages: list(json, Number.POSITIVE_INFINITY),
    state: jsonObject(),
    next: list(name),
    interrupts: list(record<{ id: string; value: unknown }>({ id: name, value: json })),
    checkpoint_id: nullable(name),
    thread_state: absentAsNull(jsonObject()),
  },
  error: {
    error_type: oneOf("syntax_error", "program_error", "no_app", "invalid_request"),
    error: string(),
    node: nullable(name),
    traceback: string(),
  },
};

/** Parses one frame's payload from a harness; throws ProtocolError naming what is wrong. */
export function parseHarnessMessage(payload: Buffer): HarnessMessage {
  return parseFrame(
    payload,
    "harness",
    HARNESS as unknown as Record<string, Record<string, Check<unknown>>>,
  ) as unknown as HarnessMessage;
}

/** Checks a frame's depth, JSON, version and type, then rebuilds it from its type's fields. */
function parseFrame(
  payload: Buffer,
  sender: string,
  schemas: Record<string, Record<string, Check<unknown>>>,
): Record<string, unknown> {
  if (nestsDeeperThan(payload, MAX_JSON_DEPTH))
    throw new ProtocolError(`${sender} sent a frame nested deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new ProtocolError(`${sender} sent a frame that is not JSON`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ProtocolError(`${sender} sent a frame that is not an object`);
  const frame = value as Record<string, unknown>;
  if (frame["v"] !== PROTOCOL_VERSION)
    throw new ProtocolError(
      `${sender} speaks protocol version ${String(frame["v"]).slice(0, 32)}, engine speaks ${PROTOCOL_VERSION}`,
    );
  const type = frame["type"];
  if (typeof type !== "string" || !Object.hasOwn(schemas, type))
    throw new ProtocolError(`${sender} sent an unknown message type ${String(JSON.stringify(type)).slice(0, 64)}`);
  const message: Record<string, unknown> = { v: PROTOCOL_VERSION, type };
  for (const [field, check] of Object.entries(schemas[type]!)) {
    try {
      message[field] = check(Object.hasOwn(frame, field) ? frame[field] : undefined);
    } catch (err: unknown) {
      throw new ProtocolError(
        `${sender} message ${type} has a bad field ${field}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  return message;
}

// The fork server (src/runtimes/python/forkserver.ts ↔ runtimes/python/harness/graphbox_harness/zygote.py).

/** What a forked child sets on itself before the program runs (its cgroup is the engine's doing). */
export interface ForkLimits {
  cpu_seconds: number;
  file_size_bytes: number;
  open_files: number;
  tmp_size_bytes: number;
}

/**
 * Engine → zygote, on the zygote's fd 3. `init` comes first and once: the execution seccomp filter
 * (base64 of its struct sock_filter array), which every child installs. `release` lets a child go
 * on once the engine has moved it into its job's cgroup; `abandon` makes it exit instead.
 */
export type ZygoteCommand =
  | {
      v: typeof PROTOCOL_VERSION;
      type: "init";
      seccomp: string;
      llm_base_urls: { openai: string; anthropic: string } | null;
    }
  | { v: typeof PROTOCOL_VERSION; type: "fork"; job_id: string; token: string; limits: ForkLimits }
  | { v: typeof PROTOCOL_VERSION; type: "release"; job_id: string }
  | { v: typeof PROTOCOL_VERSION; type: "abandon"; job_id: string };

/** Zygote → engine. Pids are as the zygote's PID namespace sees them; `signal` is a signal number. */
export type ZygoteReport =
  | { v: 1; type: "zygote_ready"; pid_in_ns: number; versions: Map<string, string> }
  | { v: 1; type: "forked"; job_id: string; pid_in_ns: number }
  | { v: 1; type: "fork_failed"; job_id: string; error: string }
  | { v: 1; type: "reaped"; job_id: string; code: number | null; signal: number | null };

/**
 * Engine → a forked child: the first frame on the job's own channel, before `ready`. The
 * environment the fresh-process path gives bwrap (the job's gateway credential included) and the
 * working directory: per-job data travels engine → child directly and never through the zygote.
 */
export interface SetupMessage {
  v: typeof PROTOCOL_VERSION;
  type: "setup";
  env: Record<string, string>;
  cwd: string;
}

const ZYGOTE: { [T in ZygoteReport["type"]]: Fields<Extract<ZygoteReport, { type: T }>> } = {
  zygote_ready: { pid_in_ns: count, versions: mapOf(string(256), 64) },
  forked: { job_id: name, pid_in_ns: count },
  fork_failed: { job_id: name, error: string(64 * 1024) },
  reaped: { job_id: name, code: nullable(count), signal: nullable(count) },
};

/** Parses one frame from the zygote; throws ProtocolError naming what is wrong. */
export function parseZygoteReport(payload: Buffer): ZygoteReport {
  return parseFrame(
    payload,
    "zygote",
    ZYGOTE as unknown as Record<string, Record<string, Check<unknown>>>,
  ) as unknown as ZygoteReport;
}
