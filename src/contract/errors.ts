/**
 * The catalogue of every error the engine answers with: a stable code, the contract's
 * error_type, the HTTP status and what it means. Callers check codes, not classes.
 */
export type ErrorType =
  | "invalid_request"
  | "syntax_error"
  | "program_error"
  | "no_app"
  | "timeout"
  | "memory_limit"
  | "resource_limit"
  | "output_limit"
  | "token_budget"
  | "cancelled"
  | "sandbox_error"
  | "internal_error";

interface ErrorSpec {
  errorType: ErrorType;
  /** HTTP status: 200 when the program itself failed (the request was fine), 4xx/5xx otherwise. */
  status: number;
  doc: string;
}

export const ERRORS = {
  GBX_ERR_INVALID_REQUEST: {
    errorType: "invalid_request",
    status: 400,
    doc: "A field of the request is missing, has the wrong type or does not fit the program; the message names it.",
  },
  GBX_ERR_INVALID_JSON: { errorType: "invalid_request", status: 400, doc: "The body is not valid JSON." },
  GBX_ERR_BODY_TOO_LARGE: {
    errorType: "invalid_request",
    status: 413,
    doc: "The body is over GRAPHBOX_BODY_LIMIT_BYTES.",
  },
  GBX_ERR_UNSUPPORTED_MEDIA_TYPE: {
    errorType: "invalid_request",
    status: 415,
    doc: "The body is not application/json.",
  },
  GBX_ERR_LANGUAGE_UNDETECTED: {
    errorType: "invalid_request",
    status: 400,
    doc: "`language` is absent and the source does not say which language it is.",
  },
  GBX_ERR_RUNTIME_UNAVAILABLE: {
    errorType: "invalid_request",
    status: 501,
    doc: "The program's language has no runtime in this engine yet.",
  },
  GBX_ERR_UNAUTHENTICATED: {
    errorType: "invalid_request",
    status: 401,
    doc: "API keys are configured and the request has no valid `Authorization: Bearer <key>` (or `x-api-key: <key>`).",
  },
  GBX_ERR_RATE_LIMITED: {
    errorType: "invalid_request",
    status: 429,
    doc: "This API key is over its concurrency or rate limit; retry after `Retry-After` seconds.",
  },
  GBX_ERR_OVERLOADED: {
    errorType: "invalid_request",
    status: 503,
    doc: "The engine is full (all slots busy and the queue full, or the wait too long); retry after `Retry-After` seconds.",
  },
  GBX_ERR_SHUTTING_DOWN: {
    errorType: "invalid_request",
    status: 503,
    doc: "The engine is shutting down and takes no new executions.",
  },
  GBX_ERR_NOT_FOUND: { errorType: "invalid_request", status: 404, doc: "No such route." },
  GBX_ERR_PLAYGROUND_NOT_BUILT: {
    errorType: "invalid_request",
    status: 503,
    doc: "The playground page (/playground) is not built in this checkout: run `bash scripts/setup.sh` (or `npm start`, which runs it).",
  },
  GBX_ERR_METHOD_NOT_ALLOWED: {
    errorType: "invalid_request",
    status: 405,
    doc: "The route does not take this method; `Allow` lists those it takes.",
  },
  GBX_ERR_THREAD_NOT_FOUND: { errorType: "invalid_request", status: 404, doc: "No such thread (for this API key)." },
  GBX_ERR_EXECUTION_NOT_FOUND: {
    errorType: "invalid_request",
    status: 404,
    doc: "No such execution (for this API key).",
  },
  GBX_ERR_RUN_NOT_FOUND: { errorType: "invalid_request", status: 404, doc: "No such run (for this API key)." },
  GBX_ERR_RUN_REJECTED: {
    errorType: "invalid_request",
    status: 422,
    doc: "A run with `multitask_strategy: reject` (the default) on a thread that is running one; LangGraph's JS server answers 422 too.",
  },
  GBX_ERR_THREAD_BUSY: {
    errorType: "invalid_request",
    status: 409,
    doc: "Another execution is running on this thread; retry when it has ended.",
  },
  GBX_ERR_THREAD_EXISTS: {
    errorType: "invalid_request",
    status: 409,
    doc: "`POST /threads` with `if_exists: raise` (the default) names a thread this API key already has.",
  },
  GBX_ERR_THREAD_NO_PROGRAM: {
    errorType: "invalid_request",
    status: 400,
    doc: "The thread's state can only be changed through its program, and it has none registered: its metadata names no `graph_id` of `PUT /graphs` (a thread of `/execute-langgraph`, or one no run has used), or that graph was deleted. LangGraph's server answers 400 too.",
  },
  GBX_ERR_PROGRAM_FAILED: {
    errorType: "invalid_request",
    status: 422,
    doc: "The thread's registered program failed while its state was read or updated (it raised, did not load, timed out or ran out of its limits); the message is its own.",
  },
  GBX_ERR_THREAD_RUNTIME: {
    errorType: "invalid_request",
    status: 409,
    doc: "The thread was written by the other runtime (Python vs JavaScript/TypeScript).",
  },
  GBX_ERR_NOTHING_TO_CONTINUE: {
    errorType: "invalid_request",
    status: 400,
    doc: "`inputs` is null (continue) but the thread has no checkpoint to continue from.",
  },
  GBX_ERR_STORE_LIMIT: {
    errorType: "invalid_request",
    status: 422,
    doc: "A store item is over GRAPHBOX_STORE_MAX_ITEM_BYTES, or the API key already keeps GRAPHBOX_STORE_MAX_ITEMS items.",
  },
  GBX_ERR_GRAPH_NOT_FOUND: {
    errorType: "invalid_request",
    status: 404,
    doc: "No program registered by that graph_id (for this API key).",
  },
  GBX_ERR_GRAPH_INVALID: {
    errorType: "invalid_request",
    status: 422,
    doc: "The program sent to `PUT /graphs/{graph_id}` does not load: it does not parse, raises at its top level, has no graph, or runs out of its limits while loading; the message is its own. Nothing is stored.",
  },
  GBX_ERR_GRAPH_LIMIT: {
    errorType: "invalid_request",
    status: 409,
    doc: "This API key already has GRAPHBOX_MAX_GRAPHS_PER_KEY programs registered; delete one first.",
  },
  GBX_ERR_ASSISTANT_NOT_FOUND: {
    errorType: "invalid_request",
    status: 404,
    doc: "No assistant by that id, and no registered graph by that id (for this API key).",
  },
  GBX_ERR_ASSISTANT_EXISTS: {
    errorType: "invalid_request",
    status: 409,
    doc: "An assistant with that assistant_id exists (POST /assistants with `if_exists: raise`).",
  },
  GBX_ERR_ASSISTANT_LIMIT: {
    errorType: "invalid_request",
    status: 409,
    doc: "This API key already has GRAPHBOX_MAX_ASSISTANTS_PER_KEY assistants; delete one first.",
  },
  GBX_ERR_SYNTAX: { errorType: "syntax_error", status: 200, doc: "The program does not parse." },
  GBX_ERR_PROGRAM: {
    errorType: "program_error",
    status: 200,
    doc: "The program raised: at its top level, or in a node (named in `node`).",
  },
  GBX_ERR_NO_APP: {
    errorType: "no_app",
    status: 200,
    doc: "The program defines no graph the engine can find, or several and `config.graph` names none of them; the message lists them.",
  },
  GBX_ERR_TIMEOUT: { errorType: "timeout", status: 200, doc: "The execution ran past its timeout and was killed." },
  GBX_ERR_OUTPUT_LIMIT: {
    errorType: "output_limit",
    status: 200,
    doc: "The program sent a result or event over GRAPHBOX_MAX_OUTPUT_BYTES.",
  },
  GBX_ERR_MEMORY_LIMIT: {
    errorType: "memory_limit",
    status: 200,
    doc: "The program went over GRAPHBOX_SANDBOX_MEMORY_MB and was killed.",
  },
  GBX_ERR_RESOURCE_LIMIT: {
    errorType: "resource_limit",
    status: 200,
    doc: "The program ran into a sandbox limit: processes, CPU seconds or file size.",
  },
  GBX_ERR_EGRESS_LIMIT: {
    errorType: "resource_limit",
    status: 200,
    doc: "The program sent or received more bytes through the egress proxy than GRAPHBOX_EGRESS_EXECUTION_BYTES_OUT or _BYTES_IN allow.",
  },
  GBX_ERR_TOKEN_BUDGET: {
    errorType: "token_budget",
    status: 200,
    doc: "The execution's LLM calls used more tokens than config.max_tokens (or the server's cap) allows.",
  },
  GBX_ERR_CANCELLED: {
    errorType: "cancelled",
    status: 200,
    doc: "The execution was cancelled (client gone, cancel request, shutdown).",
  },
  GBX_ERR_SANDBOX: {
    errorType: "sandbox_error",
    status: 200,
    doc: "The program's process could not start, or ended without a result.",
  },
  GBX_ERR_INTERNAL: {
    errorType: "internal_error",
    status: 500,
    doc: "A fault of the engine itself (logged with the request id).",
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** The contract's error envelope. */
export interface ErrorEnvelope {
  status: "error";
  error: string;
  error_type: ErrorType;
  code: ErrorCode;
  node?: string | null;
  traceback?: string;
  execution_id?: string;
  metadata?: object;
}

/** An error with a catalogue code; thrown by request handling, turned into an envelope by the server. */
export class GraphboxError extends Error {
  override name = "GraphboxError";
  /** Seconds, for 429 and 503 answers (the `Retry-After` header). */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
  get status(): number {
    return ERRORS[this.code].status;
  }
  toEnvelope(): ErrorEnvelope {
    return { status: "error", error: this.message, error_type: ERRORS[this.code].errorType, code: this.code };
  }
}
