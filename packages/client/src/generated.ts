// Generated from the engine's OpenAPI document by scripts/client-openapi.ts: do not edit.
// test/client-openapi.test.ts fails when the engine's document and this file differ.

/** The body of POST /execute-langgraph (and /stream). POST /execute-langgraph */
export interface ExecuteRequest {
  /** The program's source. */
  code: string;
  language?: "python" | "javascript" | "typescript";
  /** The graph input; null or absent continues a thread from its last checkpoint. */
  inputs?: unknown;
  /** Value handed to a pending interrupt() (Command(resume=...)). */
  resume?: unknown;
  /** More modules of the program, by relative path (`state.py`, `tools/search.ts`): `code` imports them (Python: `from .state import State` or `from state import State`; JavaScript/TypeScript: `./state.js`). */
  files?: {
    [key: string]: string;
  };
  config?: {
    thread_id?: string;
    debug?: boolean;
    breakpoints?: Array<
      | string
      | {
          node: string;
          when?: "before" | "after";
        }
    >;
    timeout_ms?: number;
    recursion_limit?: number;
    /** Token budget of this execution's LLM calls, capped by the server's. */
    max_tokens?: number;
    checkpoint_id?: string | null;
    configurable?: {
      [key: string]: unknown;
    };
    /** The variable holding the graph to run, when the program defines several. */
    graph?: string;
    /** Hosts this execution may reach through the egress proxy, `host[:port]` patterns as GRAPHBOX_EGRESS_ALLOW takes them; it only narrows the engine's list (and the API key's). `[]`: no egress for this execution. */
    egress?: Array<string>;
    /** The run's LangGraph context (Python `context=`, JavaScript `context`): what a node reads as `runtime.context`. Per run: a thread's next run has none unless it sends its own. */
    context?: {
      [key: string]: unknown;
    } | null;
  } | null;
}

/** The body of POST /execute-langgraph/graph. POST /execute-langgraph/graph */
export interface DescribeRequest {
  /** The program's source. */
  code: string;
  language?: "python" | "javascript" | "typescript";
  /** More modules of the program, by relative path (`state.py`, `tools/search.ts`): `code` imports them (Python: `from .state import State` or `from state import State`; JavaScript/TypeScript: `./state.js`). */
  files?: {
    [key: string]: string;
  };
  /** The variable holding the graph to run, when the program defines several. */
  graph?: string;
  /** Draw subgraphs' nodes too (LangGraph's xray) */
  xray?: boolean;
}

/** The body of POST /threads/search. POST /threads/search */
export interface ThreadSearchRequest {
  /** Only threads whose metadata has these keys with equal values */
  metadata?: {
    [key: string]: unknown;
  } | null;
  /** Only threads whose head values contain these (JSONB containment), among the first 1000 of the order asked */
  values?: {
    [key: string]: unknown;
  } | null;
  status?: "idle" | "busy" | "interrupted" | "error" | null;
  ids?: Array<string> | null;
  /** Default 10 */
  limit?: number;
  offset?: number;
  sort_by?: "thread_id" | "status" | "created_at" | "updated_at" | null;
  /** Default desc: newest first */
  sort_order?: "asc" | "desc" | null;
  /** Only these fields of each thread */
  select?: Array<
    "thread_id" | "created_at" | "updated_at" | "metadata" | "config" | "status" | "values" | "interrupts"
  > | null;
  /** Accepted and ignored (as LangGraph's JS server does). */
  extract?: {
    [key: string]: unknown;
  } | null;
}

/** GET /threads/{id}/history's query. GET /threads/{id}/history */
export interface ThreadHistoryQuery {
  /** How many checkpoints, 1 to 1000 (default 100) */
  limit?: string;
  /** Only checkpoints older than this checkpoint_id */
  before?: string;
}

/** What every 200 of an execution has. POST /execute-langgraph */
export interface ExecuteResponseFields {
  status: "success" | "interrupted" | "error";
}

/** What a drawn graph always has. POST /execute-langgraph/graph */
export interface GraphDescriptionFields {
  graph: {
    nodes: Array<unknown>;
    edges: Array<unknown>;
  };
}

/** What an execution's record always has. GET /executions/{id} */
export interface ExecutionRecordFields {
  execution_id: unknown;
  thread_id: unknown;
  runtime: unknown;
  status: "running" | "success" | "interrupted" | "error" | "cancelled";
  error_type: unknown;
  error: unknown;
  started_at: unknown;
  ended_at: unknown;
  duration_ms: unknown;
  tokens_used: unknown;
  nodes_executed: unknown;
  result: unknown;
  context: unknown;
}

/** What a cancel's answer always has. POST /executions/{id}/cancel */
export interface CancelResponseFields {
  execution_id: unknown;
  cancelled: unknown;
  execution: {
    execution_id: unknown;
    thread_id: unknown;
    runtime: unknown;
    status: "running" | "success" | "interrupted" | "error" | "cancelled";
    error_type: unknown;
    error: unknown;
    started_at: unknown;
    ended_at: unknown;
    duration_ms: unknown;
    tokens_used: unknown;
    nodes_executed: unknown;
    result: unknown;
    context: unknown;
  };
}

/** What a thread's state always has. GET /threads/{id}/state */
export interface ThreadStateFields {
  values: unknown;
  next: unknown;
  tasks: unknown;
  created_at: unknown;
  checkpoint: unknown;
  parent_checkpoint: unknown;
  thread_id: unknown;
  runtime: unknown;
  interrupts: unknown;
  checkpoint_id: unknown;
  updated_at: unknown;
  status: "idle" | "busy" | "interrupted" | "error";
}

/** What a thread's history always has. GET /threads/{id}/history */
export interface ThreadHistoryFields {
  thread_id: unknown;
  checkpoints: Array<unknown>;
}

/** What LangGraph's Thread always has. GET /threads/{id} */
export interface ThreadFields {
  thread_id: unknown;
  created_at: unknown;
  updated_at: unknown;
  metadata: unknown;
  status: "idle" | "busy" | "interrupted" | "error";
  config: unknown;
}

/** GET /health's answer. GET /health */
export interface HealthFields {
  status: "ok";
}

/** What GET /ready always has. GET /ready */
export interface ReadyFields {
  status: "ready";
  sandbox: unknown;
  packages: unknown;
}

/** The `event:` names of POST /execute-langgraph/stream and GET /executions/{id}/stream. */
export const STREAM_EVENT_NAMES = [
  "metadata",
  "node_start",
  "update",
  "node_end",
  "token",
  "custom",
  "interrupt",
  "complete",
  "error",
  "chunk",
] as const;

/** Every error code the engine's document names (an envelope's `code`). */
export const ERROR_CODES = [
  "GBX_ERR_ASSISTANT_EXISTS",
  "GBX_ERR_ASSISTANT_LIMIT",
  "GBX_ERR_ASSISTANT_NOT_FOUND",
  "GBX_ERR_BODY_TOO_LARGE",
  "GBX_ERR_CANCELLED",
  "GBX_ERR_EGRESS_LIMIT",
  "GBX_ERR_EXECUTION_NOT_FOUND",
  "GBX_ERR_GRAPH_INVALID",
  "GBX_ERR_GRAPH_LIMIT",
  "GBX_ERR_GRAPH_NOT_FOUND",
  "GBX_ERR_INTERNAL",
  "GBX_ERR_INVALID_JSON",
  "GBX_ERR_INVALID_REQUEST",
  "GBX_ERR_LANGUAGE_UNDETECTED",
  "GBX_ERR_MEMORY_LIMIT",
  "GBX_ERR_METHOD_NOT_ALLOWED",
  "GBX_ERR_NOTHING_TO_CONTINUE",
  "GBX_ERR_NOT_FOUND",
  "GBX_ERR_NO_APP",
  "GBX_ERR_OUTPUT_LIMIT",
  "GBX_ERR_OVERLOADED",
  "GBX_ERR_PLAYGROUND_NOT_BUILT",
  "GBX_ERR_PROGRAM",
  "GBX_ERR_PROGRAM_FAILED",
  "GBX_ERR_RATE_LIMITED",
  "GBX_ERR_RESOURCE_LIMIT",
  "GBX_ERR_RUNTIME_UNAVAILABLE",
  "GBX_ERR_RUN_NOT_FOUND",
  "GBX_ERR_RUN_REJECTED",
  "GBX_ERR_SANDBOX",
  "GBX_ERR_SHUTTING_DOWN",
  "GBX_ERR_STORE_LIMIT",
  "GBX_ERR_SYNTAX",
  "GBX_ERR_THREAD_BUSY",
  "GBX_ERR_THREAD_EXISTS",
  "GBX_ERR_THREAD_NOT_FOUND",
  "GBX_ERR_THREAD_NO_PROGRAM",
  "GBX_ERR_THREAD_RUNTIME",
  "GBX_ERR_TIMEOUT",
  "GBX_ERR_TOKEN_BUDGET",
  "GBX_ERR_UNAUTHENTICATED",
  "GBX_ERR_UNSUPPORTED_MEDIA_TYPE",
] as const;
