/**
 * The answers the client reads, typed. Each extends the fields the engine's OpenAPI document says
 * it always has (generated.ts), so a field the engine drops breaks the build; the rest is the
 * contract's (CONTRACT.md), which the document describes in words.
 */
import type {
  CancelResponseFields,
  ERROR_CODES,
  ExecuteRequest,
  ExecutionRecordFields,
  GraphDescriptionFields,
  HealthFields,
  ReadyFields,
  ThreadFields,
  ThreadHistoryFields,
  ThreadStateFields,
} from "./generated.ts";

export type Language = NonNullable<ExecuteRequest["language"]>;

/** An envelope's `code`: one of the engine's, or a newer engine's (checked as data, never as a class). */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The contract's `error_type`s. */
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

/** A message in the one shape every runtime gives. */
export interface Message {
  role: "user" | "assistant" | "system" | "tool";
  content: string | unknown[];
  name?: string;
  id?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
  usage_metadata?: { input_tokens: number; output_tokens: number; total_tokens: number };
  response_metadata?: Record<string, unknown>;
}

export interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  calls: number;
}

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  by_model: Record<string, ModelUsage>;
  reported_by_program_total?: number;
}

export interface NodeTiming {
  node: string;
  step: number;
  duration_ms: number;
  status: "ok" | "error" | "interrupted";
  /** Tokens the engine's gateway charged while this node was the only one running. */
  tokens: number;
}

export interface Interrupt {
  id: string;
  value: unknown;
}

export interface ExecutionMetadata {
  duration_ms: number;
  tokens_used: number;
  nodes_executed: string[];
  execution_id: string;
  thread_id: string;
  checkpoint_id: string | null;
  runtime: Language;
  token_usage: TokenUsage;
  cost?: { currency: "USD"; total: number; by_model: Record<string, number> };
  node_timings: NodeTiming[];
  next: string[];
  interrupts: Interrupt[];
  /** The program's own prints (stdout and stderr), bounded. */
  logs: string;
  debug?: Record<string, unknown>[];
  egress?: { host: string; requests: number; bytes_in: number; bytes_out: number; refusals: number }[];
}

export interface ExecutionResult {
  messages: Message[];
  state: Record<string, unknown>;
  metadata: ExecutionMetadata;
}

/** The program ran to its end, or paused at a breakpoint or an `interrupt()` (`metadata.next`, `metadata.interrupts`). */
export interface ExecuteSuccess {
  status: "success" | "interrupted";
  result: ExecutionResult;
}

/** The program itself failed (HTTP 200): the contract's error envelope, with the execution it was. */
export interface ExecuteFailure {
  status: "error";
  error: string;
  error_type: ErrorType;
  code: ErrorCode;
  node?: string | null;
  /** Points at the program's own lines (`<workflow>` line N). */
  traceback?: string;
  execution_id: string;
  metadata: ExecutionMetadata;
}

/** POST /execute-langgraph's 200: `status` tells which. */
export type ExecuteResponse = ExecuteSuccess | ExecuteFailure;

export interface GraphNode {
  id: string;
  type: string;
  data: unknown;
  metadata?: Record<string, unknown>;
}

export interface GraphEdge {
  source: string;
  target: string;
  conditional: boolean;
  data?: unknown;
}

/** A program's graph drawn without running it. */
export interface GraphDescription extends GraphDescriptionFields {
  graph: { nodes: GraphNode[]; edges: GraphEdge[] };
  input_schema?: unknown;
  output_schema?: unknown;
  state_schema?: unknown;
  config_schema?: unknown;
  context_schema?: unknown;
}

export interface ExecutionRecord extends ExecutionRecordFields {
  execution_id: string;
  thread_id: string;
  runtime: Language;
  error_type: ErrorType | null;
  error: string | null;
  started_at: string;
  ended_at: string | null;
  duration_ms: number | null;
  tokens_used: number;
  nodes_executed: string[];
  /** The answer it gave (what execute() resolved with), null while it runs. */
  result: ExecuteResponse | null;
  context: Record<string, unknown> | null;
}

export interface CancelResponse extends CancelResponseFields {
  execution_id: string;
  /** False when it had already ended. */
  cancelled: boolean;
  execution: ExecutionRecord;
}

export interface CheckpointRef {
  thread_id: string;
  checkpoint_id: string;
  checkpoint_ns: string;
  checkpoint_map: Record<string, unknown> | null;
}

export interface ThreadTask {
  id: string;
  name: string;
  path: unknown[];
  error: string | null;
  interrupts: Record<string, unknown>[];
  checkpoint: { thread_id: string; checkpoint_ns: string } | null;
  state: unknown;
  result: unknown;
}

/** LangGraph's ThreadState with Graphbox's fields beside it. */
export interface ThreadState extends ThreadStateFields {
  /** The state's channels; a graph whose state is one root channel has a bare value here. */
  values: unknown;
  next: string[];
  tasks: ThreadTask[];
  metadata?: Record<string, unknown> | null;
  created_at: string | null;
  checkpoint: CheckpointRef | null;
  parent_checkpoint: CheckpointRef | null;
  thread_id: string;
  runtime: "python" | "js" | null;
  interrupts: unknown[];
  checkpoint_id: string | null;
  updated_at: string;
}

export interface Checkpoint {
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  step: number | null;
  source: string | null;
  values: unknown;
  metadata: Record<string, unknown>;
  created_at: string;
}

/** A thread's checkpoints, newest first. */
export interface ThreadHistory extends ThreadHistoryFields {
  thread_id: string;
  checkpoints: Checkpoint[];
}

/** LangGraph's Thread. */
export interface Thread extends ThreadFields {
  thread_id: string;
  created_at: string;
  updated_at: string;
  metadata: Record<string, unknown>;
  config: Record<string, unknown>;
  values?: unknown;
  interrupts?: Record<string, unknown[]>;
}

export type Health = HealthFields;

export interface Ready extends ReadyFields {
  runtimes?: Record<string, unknown>;
  store?: unknown;
  in_flight?: unknown;
  [key: string]: unknown;
}
