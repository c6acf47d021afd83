/**
 * The one definition of what crosses between the engine and a harness.
 *
 * Every message is a JSON object with `v` (the protocol version) and `type`.
 * The Python harness mirrors this file in `runtimes/python/graphbox_harness/protocol.py`;
 * a message from a harness is untrusted data (the program runs in the same process),
 * so the engine parses and size-checks it here before believing any of it.
 */
export const PROTOCOL_VERSION = 1;

/** Engine → harness: run this program once. */
export interface JobMessage {
  v: typeof PROTOCOL_VERSION;
  type: "job";
  execution_id: string;
  thread_id: string;
  language: "python" | "javascript" | "typescript";
  code: string;
  inputs: unknown;
  resume: unknown;
  /** True when the caller streams: the harness then also sends `update` and `token` events. */
  stream: boolean;
  /** True for config.debug: the harness sends a `debug` message per step. */
  debug: boolean;
  /** Variables set before the program loads: the execution's gateway credential (never in a waiting sandbox). */
  env: Record<string, string>;
  config: {
    recursion_limit: number;
    configurable: Record<string, unknown>;
    interrupt_before: string[];
    interrupt_after: string[];
    checkpoint_id: string | null;
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

/** Harness → engine. */
export type HarnessMessage =
  | { v: 1; type: "ready"; runtime: string; versions: Record<string, string> }
  | { v: 1; type: "node_start"; node: string; step: number }
  | { v: 1; type: "node_end"; node: string; step: number; duration_ms: number; status: "ok" | "error" | "interrupted" }
  | { v: 1; type: "update"; data: Record<string, unknown> }
  | { v: 1; type: "token"; node: string | null; content: string }
  | { v: 1; type: "custom"; data: unknown }
  | { v: 1; type: "debug"; data: Record<string, unknown> }
  | CheckpointRequest
  | { v: 1; type: "usage"; model: string; node: string | null; input_tokens: number; output_tokens: number; total_tokens: number }
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

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isString = (x: unknown): x is string => typeof x === "string";
const isCount = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;
const isStringList = (x: unknown): x is string[] => Array.isArray(x) && x.every(isString);

/** Fields each message type must carry, with their checks. Extra fields are ignored. */
const REQUIRED: Record<HarnessMessage["type"], Record<string, (x: unknown) => boolean>> = {
  ready: { runtime: isString, versions: isObject },
  node_start: { node: isString, step: isCount },
  node_end: { node: isString, step: isCount, duration_ms: isCount, status: (x) => x === "ok" || x === "error" || x === "interrupted" },
  update: { data: isObject },
  token: { node: (x) => x === null || isString(x), content: isString },
  custom: {},
  debug: { data: isObject },
  checkpoint: {
    request_id: isCount,
    op: (x) => x === "get_tuple" || x === "list" || x === "put" || x === "put_writes",
    args: isObject,
  },
  usage: { model: isString, node: (x) => x === null || isString(x), input_tokens: isCount, output_tokens: isCount, total_tokens: isCount },
  result: {
    status: (x) => x === "success" || x === "interrupted",
    messages: Array.isArray,
    state: isObject,
    next: isStringList,
    interrupts: (x) => Array.isArray(x) && x.every((i) => isObject(i) && isString(i["id"])),
    checkpoint_id: (x) => x === null || isString(x),
  },
  error: {
    error_type: (x) => x === "syntax_error" || x === "program_error" || x === "no_app" || x === "invalid_request",
    error: isString,
    node: (x) => x === null || isString(x),
    traceback: isString,
  },
};

/** Parses one frame's payload from a harness; throws ProtocolError naming what is wrong. */
export function parseHarnessMessage(payload: Buffer): HarnessMessage {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new ProtocolError("harness sent a frame that is not JSON");
  }
  if (!isObject(value)) throw new ProtocolError("harness sent a frame that is not an object");
  if (value["v"] !== PROTOCOL_VERSION) throw new ProtocolError(`harness speaks protocol version ${String(value["v"])}, engine speaks ${PROTOCOL_VERSION}`);
  const type = value["type"];
  if (!isString(type) || !(type in REQUIRED)) throw new ProtocolError(`harness sent an unknown message type ${JSON.stringify(type)}`);
  const checks = REQUIRED[type as HarnessMessage["type"]];
  for (const [field, check] of Object.entries(checks)) {
    if (!check(value[field])) throw new ProtocolError(`harness message ${type} has a bad field ${field}`);
  }
  return value as unknown as HarnessMessage;
}

// The fork server (src/sandbox/forkserver.ts ↔ runtimes/python/graphbox_harness/zygote.py).

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
  | { v: typeof PROTOCOL_VERSION; type: "init"; seccomp: string; llm_base_urls: { openai: string; anthropic: string } | null }
  | { v: typeof PROTOCOL_VERSION; type: "fork"; job_id: string; token: string; limits: ForkLimits }
  | { v: typeof PROTOCOL_VERSION; type: "release"; job_id: string }
  | { v: typeof PROTOCOL_VERSION; type: "abandon"; job_id: string };

/** Zygote → engine. Pids are as the zygote's PID namespace sees them; `signal` is a signal number. */
export type ZygoteReport =
  | { v: 1; type: "zygote_ready"; pid_in_ns: number; versions: Record<string, string> }
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

const isCountOrNull = (x: unknown): boolean => x === null || isCount(x);

const ZYGOTE_REQUIRED: Record<ZygoteReport["type"], Record<string, (x: unknown) => boolean>> = {
  zygote_ready: { pid_in_ns: isCount, versions: isObject },
  forked: { job_id: isString, pid_in_ns: isCount },
  fork_failed: { job_id: isString, error: isString },
  reaped: { job_id: isString, code: isCountOrNull, signal: isCountOrNull },
};

/** Parses one frame from the zygote; throws ProtocolError naming what is wrong. */
export function parseZygoteReport(payload: Buffer): ZygoteReport {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString("utf8"));
  } catch {
    throw new ProtocolError("zygote sent a frame that is not JSON");
  }
  if (!isObject(value) || value["v"] !== PROTOCOL_VERSION) throw new ProtocolError("zygote sent a frame that is not a version 1 object");
  const type = value["type"];
  if (!isString(type) || !(type in ZYGOTE_REQUIRED)) throw new ProtocolError(`zygote sent an unknown message type ${JSON.stringify(type)}`);
  for (const [field, check] of Object.entries(ZYGOTE_REQUIRED[type as ZygoteReport["type"]])) {
    if (!check(value[field])) throw new ProtocolError(`zygote message ${type} has a bad field ${field}`);
  }
  return value as unknown as ZygoteReport;
}
