/**
 * The client's exceptions. Check `code` (the engine's catalogue, stable across versions) rather
 * than the class where an error crosses a boundary (a worker, a serialized log).
 */
import type { ErrorCode, ErrorType, ExecuteFailure } from "./types.ts";

/** The engine refused the request: an HTTP 4xx/5xx with the contract's envelope. */
export class GraphboxError extends Error {
  override name = "GraphboxError";
  /** The HTTP status. */
  readonly status: number;
  /** The envelope's `code` (`GBX_ERR_...`); `GBX_ERR_HTTP` when the answer was not an envelope. */
  readonly code: ErrorCode | "GBX_ERR_HTTP";
  readonly errorType: ErrorType | undefined;
  /** Seconds to wait before asking again (429 and 503 answers' `Retry-After`). */
  readonly retryAfter: number | undefined;
  /** The answer's parsed body (text when it was not JSON). */
  readonly body: unknown;

  constructor(options: { status: number; body: unknown; retryAfter?: number }) {
    const envelope = isEnvelope(options.body) ? options.body : null;
    super(envelope ? envelope.error : `HTTP ${options.status}`);
    this.status = options.status;
    this.code = envelope ? (envelope.code as ErrorCode) : "GBX_ERR_HTTP";
    this.errorType = envelope ? (envelope.error_type as ErrorType) : undefined;
    this.retryAfter = options.retryAfter;
    this.body = options.body;
  }
}

/** The program itself failed (HTTP 200, status `error`): thrown by executeOrThrow() and runOrThrow(). */
export class GraphboxExecutionError extends Error {
  override name = "GraphboxExecutionError";
  readonly code: ErrorCode;
  readonly errorType: ErrorType;
  /** The node it failed in, when one was running. */
  readonly node: string | null;
  /** The program's traceback, pointing at its own lines. */
  readonly traceback: string | undefined;
  readonly executionId: string;
  /** The whole answer (its `metadata` has the timings and tokens so far). */
  readonly response: ExecuteFailure;

  constructor(response: ExecuteFailure) {
    super(response.error);
    this.code = response.code;
    this.errorType = response.error_type;
    this.node = response.node ?? null;
    this.traceback = response.traceback;
    this.executionId = response.execution_id;
    this.response = response;
  }
}

/** A stream ended before its `complete` or `error` event and could not be followed again. */
export class GraphboxStreamError extends Error {
  override name = "GraphboxStreamError";
  readonly code = "GBX_ERR_STREAM_BROKEN";
  /** Null when the stream broke before its `metadata` event named the execution. */
  readonly executionId: string | null;
  /** The last event read (0: none): GET /executions/{id}/stream with it resumes. */
  readonly lastEventId: number;

  constructor(options: { message: string; executionId: string | null; lastEventId: number; cause?: unknown }) {
    super(options.message, { cause: options.cause });
    this.executionId = options.executionId;
    this.lastEventId = options.lastEventId;
  }
}

function isEnvelope(body: unknown): body is { error: string; code: string; error_type: string } {
  if (typeof body !== "object" || body === null) return false;
  const b = body as Record<string, unknown>;
  return typeof b["error"] === "string" && typeof b["code"] === "string" && typeof b["error_type"] === "string";
}
