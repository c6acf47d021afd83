/**
 * The events of an execution's stream (POST /execute-langgraph/stream, GET
 * /executions/{id}/stream): `event` names it, `id` is its SSE id (1, 2, 3... within the
 * execution), `data` is the JSON the engine sent, whose `type` is the event's name.
 */
import type { STREAM_EVENT_NAMES } from "./generated.ts";
import type { ExecuteFailure, ExecuteResponse, ExecuteSuccess, Interrupt, Language } from "./types.ts";

export type StreamEventName = (typeof STREAM_EVENT_NAMES)[number];

export interface EventData {
  metadata: { type: "metadata"; execution_id: string; thread_id: string; runtime: Language };
  node_start: { type: "node_start"; node: string; step: number };
  /** The node's state update, under the node's name (under `update` when the node is named `type` or `node`). */
  update: { type: "update"; node: string; [key: string]: unknown };
  node_end: { type: "node_end"; node: string; step: number; duration_ms: number };
  /** An LLM's streamed text delta; `node` is null when no single node was running. */
  token: { type: "token"; node: string | null; content: string };
  /** What the program wrote with LangGraph's stream writer. */
  custom: { type: "custom"; data: unknown };
  interrupt: { type: "interrupt"; next: string[]; interrupts: Interrupt[] };
  /** The stream's last event when the program ran or paused: the whole answer of execute(). */
  complete: { type: "complete" } & ExecuteSuccess;
  /** The stream's last event when the program failed: the error envelope execute() would answer. */
  error: { type: "error" } & ExecuteFailure;
  /** A raw LangGraph chunk of an Agent API run; the execution streams never send it. */
  chunk: { type: "chunk"; mode: string; ns: string[]; data: unknown };
}

/** One event, discriminated on `event`: `if (e.event === "token") e.data.content`. */
export type StreamEvent = { [E in StreamEventName]: { id: number; event: E; data: EventData[E] } }[StreamEventName];

export type TerminalEvent = Extract<StreamEvent, { event: "complete" | "error" }>;

/** Exactly one of these ends every stream. */
export const isTerminal = (event: StreamEvent): event is TerminalEvent =>
  event.event === "complete" || event.event === "error";

/** The answer a stream ended with, as execute() would have resolved. */
export function outcomeOf(event: TerminalEvent): ExecuteResponse {
  const { type: _type, ...outcome } = event.data;
  return outcome;
}
