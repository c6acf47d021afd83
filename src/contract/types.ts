/** What the engine takes and gives: the contract's request and response, typed. */
import type { ErrorEnvelope } from "./errors.ts";
import type { ChunkMode } from "./protocol/messages.ts";

/** The languages a program may be written in (the request's `language`). */
export const LANGUAGES = ["python", "javascript", "typescript"] as const;
export type Language = (typeof LANGUAGES)[number];

/** The runtimes that run them (JavaScript and TypeScript share one), as stored with threads and reported in metrics. */
export const RUNTIME_NAMES = ["python", "js"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export interface Breakpoint {
  node: string;
  when: "before" | "after";
}

/** A request after validation, with defaults applied. */
export interface ExecutionRequest {
  code: string;
  /** More modules of the program beside `code` (its entry), by checked relative path. */
  files: Record<string, string>;
  /** The variable naming the graph to run (config.graph); null: the engine finds it. */
  graph: string | null;
  language: Language;
  /** True when `language` was absent and the engine chose it. */
  languageDetected: boolean;
  inputs: unknown;
  resume: unknown;
  threadId: string;
  debug: boolean;
  breakpoints: Breakpoint[];
  timeoutMs: number;
  recursionLimit: number;
  checkpointId: string | null;
  /** Token budget of this execution (the request's config.max_tokens, capped by the server's). */
  maxTokens: number;
  configurable: Record<string, unknown>;
  /** LangGraph's run context (config.context), null when the request has none. Per run, never kept by the thread. */
  context: Record<string, unknown> | null;
  /** The caller reads events as they happen (SSE). */
  stream: boolean;
  /** Set for a run of LangGraph's Agent API (src/agent/): what it adds to an execution. */
  run?: RunOptions;
  /** The request's config.egress (checked `host[:port]` patterns): it may only narrow the engine's and the key's lists. */
  egress?: readonly string[];
}

/** LangGraph stream modes a run forwards raw (the harness protocol's CHUNK_MODES). */
export type ChunkModeName = ChunkMode;

/** What an Agent API run adds to an execution request. */
export interface RunOptions {
  /** The run's id (the Agent API's `run_id`). */
  runId: string;
  /** The modes whose chunks are recorded as `chunk` events. */
  streamModes: ChunkModeName[];
  subgraphs: boolean;
  /** `command.update` and `command.goto` (the request's `resume` carries `command.resume`). */
  command: { update?: unknown; goto?: unknown } | null;
  /** Copied into each checkpoint's metadata, as LangGraph does with a run's metadata. */
  metadata: Record<string, unknown>;
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
  /** What the program's own LLM callbacks reported: a cross-check of the gateway's count, never billed. */
  reported_by_program_total?: number;
}

export interface Cost {
  currency: "USD";
  total: number;
  by_model: Record<string, number>;
}

export interface NodeTiming {
  node: string;
  step: number;
  duration_ms: number;
  status: "ok" | "error" | "interrupted";
  /** Tokens the gateway charged while this node was the only one running. */
  tokens: number;
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
  cost?: Cost;
  node_timings: NodeTiming[];
  next: string[];
  interrupts: { id: string; value: unknown }[];
  /** The program's own prints (stdout and stderr), bounded. */
  logs: string;
  /** With config.debug: each step's tasks (input, writes, error, timing) and the state after it. */
  debug?: Record<string, unknown>[];
  /** Only when the execution had egress (GRAPHBOX_EGRESS_ALLOW): each host it reached or was refused, in the order first seen. */
  egress?: EgressHostReport[];
}

/** One host of `metadata.egress`: the program's name for it (canonical), or `(other)` past the first 64. */
export interface EgressHostReport {
  host: string;
  /** Forwarded HTTP requests and CONNECT tunnels. */
  requests: number;
  bytes_in: number;
  bytes_out: number;
  refusals: number;
}

export interface ExecutionSuccess {
  status: "success" | "interrupted";
  result: {
    messages: unknown[];
    state: Record<string, unknown>;
    metadata: ExecutionMetadata;
  };
}

export type ExecutionOutcome =
  ExecutionSuccess | (ErrorEnvelope & { execution_id: string; metadata: ExecutionMetadata });

/** Every event name a stream may carry: the engine's own, never a program's string. */
export const EVENT_TYPES = [
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
export type EventType = (typeof EVENT_TYPES)[number];

/** What a streaming caller sees as it happens (the contract's SSE events, without ids). */
export type ExecutionEvent =
  | { type: "metadata"; execution_id: string; thread_id: string; runtime: Language }
  | { type: "node_start"; node: string; step: number }
  | { type: "node_end"; node: string; step: number; duration_ms: number }
  /** `node` and the update under the node's name (under `update` when the node is named `type` or `node`). */
  | { type: "update"; node: string; [key: string]: unknown }
  | { type: "token"; node: string | null; content: string }
  | { type: "custom"; data: unknown }
  | { type: "interrupt"; next: string[]; interrupts: { id: string; value: unknown }[] }
  /** A raw LangGraph chunk of an Agent API run (never in the contract's own streams). */
  | { type: "chunk"; mode: ChunkModeName; ns: string[]; data: unknown };

/** The event that ends every stream: `complete` with the result, or `error` with the envelope. */
export type TerminalEvent =
  ({ type: "complete" } & ExecutionSuccess) | ({ type: "error" } & Exclude<ExecutionOutcome, ExecutionSuccess>);
