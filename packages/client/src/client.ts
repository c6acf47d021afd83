/**
 * The Graphbox client: one method per route of the engine's HTTP API, typed from its OpenAPI
 * document. Only the platform's fetch, AbortSignal, ReadableStream and TextDecoder: Node 20,
 * browsers, edge runtimes.
 *
 * How an outcome surfaces:
 * - HTTP 4xx/5xx (bad request, unauthenticated, thread busy, overloaded...): `GraphboxError`, thrown.
 * - The program failed (HTTP 200, `status: "error"`): execute() resolves with it (`ExecuteFailure`),
 *   as the contract answers it; executeOrThrow() throws it as `GraphboxExecutionError`. A stream
 *   ends with its `error` event; runOrThrow() reads a stream to its end and throws the same.
 * - Paused at a breakpoint or an interrupt(): `status: "interrupted"`, never an exception.
 * - Aborted through `signal`: the platform's AbortError, thrown.
 */
import { GraphboxError, GraphboxExecutionError, GraphboxStreamError } from "./errors.ts";
import { isTerminal, type StreamEvent } from "./events.ts";
import {
  STREAM_EVENT_NAMES,
  type DescribeRequest,
  type ExecuteRequest,
  type ThreadSearchRequest,
} from "./generated.ts";
import { pathOf, ROUTES, type RouteName } from "./routes.ts";
import { readSse } from "./sse.ts";
import type {
  CancelResponse,
  ExecuteResponse,
  ExecuteSuccess,
  ExecutionRecord,
  GraphDescription,
  Health,
  Ready,
  Thread,
  ThreadHistory,
  ThreadState,
} from "./types.ts";

export interface ClientOptions {
  /** The engine's base URL (`http://localhost:8000`, or `https://host/api` behind a proxy that routes /api). */
  url: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A fetch of your own (tests, proxies, instrumentation). Default: the platform's. */
  fetch?: typeof fetch;
  /** Sent with every request. */
  headers?: Record<string, string>;
  /** How many times a dropped stream is followed again before giving up (default 5). */
  maxReconnects?: number;
  /** The wait before the first reconnect, doubled after each failed one (default 250 ms). */
  reconnectDelayMs?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface StreamOptions extends CallOptions {
  /**
   * Follow the execution again with GET /executions/{id}/stream and `Last-Event-ID` when the
   * connection drops before the stream's last event (default true). The engine cancels a POST
   * stream's execution when it sees its client go, so what a reconnect reads after a drop the engine
   * noticed is the events up to that, then `error` with `error_type: "cancelled"`.
   */
  reconnect?: boolean;
}

export interface FollowOptions extends StreamOptions {
  /** Replay from after this event id (default 0: from the start). */
  after?: number;
}

const STREAM_EVENTS: ReadonlySet<string> = new Set(STREAM_EVENT_NAMES);

interface RequestSpec extends CallOptions {
  route: RouteName;
  id?: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
}

export class GraphboxClient {
  /** The engine's base URL, without a trailing slash. */
  readonly url: string;
  private readonly fetch: typeof fetch;
  private readonly headers: Record<string, string>;
  private readonly maxReconnects: number;
  private readonly reconnectDelayMs: number;

  /** An execution's record, its cancellation and its events. */
  readonly executions: {
    get(id: string, options?: CallOptions): Promise<ExecutionRecord>;
    cancel(id: string, options?: CallOptions): Promise<CancelResponse>;
    /** Its events after `after`, then live ones until it ends (reconnecting like stream()). */
    stream(id: string, options?: FollowOptions): AsyncIterable<StreamEvent>;
  };

  /** Threads: their state, checkpoints (for time travel: `config.checkpoint_id`), listing and deletion. */
  readonly threads: {
    state(threadId: string, options?: CallOptions): Promise<ThreadState>;
    history(threadId: string, options?: { limit?: number; before?: string } & CallOptions): Promise<ThreadHistory>;
    get(threadId: string, options?: CallOptions): Promise<Thread>;
    list(search?: ThreadSearchRequest, options?: CallOptions): Promise<Thread[]>;
    delete(threadId: string, options?: CallOptions): Promise<void>;
  };

  constructor(options: ClientOptions) {
    if (!/^https?:\/\//.test(options.url)) throw new TypeError(`url must be an http(s) URL, not ${options.url}`);
    this.url = options.url.replace(/\/+$/, "");
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.headers = {
      ...options.headers,
      ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
    };
    this.maxReconnects = options.maxReconnects ?? 5;
    this.reconnectDelayMs = options.reconnectDelayMs ?? 250;
    this.executions = {
      get: (id, o) => this.json<ExecutionRecord>({ route: "execution", id, ...o }),
      cancel: (id, o) => this.json<CancelResponse>({ route: "cancel", id, ...o }),
      stream: (id, o = {}) => this.follow({ executionId: id, after: o.after ?? 0, ...o }),
    };
    this.threads = {
      state: (threadId, o) => this.json<ThreadState>({ route: "threadState", id: threadId, ...o }),
      history: (threadId, { limit, before, ...o } = {}) =>
        this.json<ThreadHistory>({
          route: "threadHistory",
          id: threadId,
          query: { limit: limit === undefined ? undefined : String(limit), before },
          ...o,
        }),
      get: (threadId, o) => this.json<Thread>({ route: "thread", id: threadId, ...o }),
      list: (search = {}, o) => this.json<Thread[]>({ route: "threadSearch", body: search, ...o }),
      delete: async (threadId, o) => {
        await this.send({ route: "threadDelete", id: threadId, ...o });
      },
    };
  }

  /** Runs a program and answers when it ends or pauses; a program's failure resolves too (`status: "error"`). */
  execute(request: ExecuteRequest, options: CallOptions = {}): Promise<ExecuteResponse> {
    return this.json<ExecuteResponse>({ route: "execute", body: request, ...options });
  }

  /** As execute(), but a program's failure is thrown as `GraphboxExecutionError`. */
  async executeOrThrow(request: ExecuteRequest, options: CallOptions = {}): Promise<ExecuteSuccess> {
    const response = await this.execute(request, options);
    if (response.status === "error") throw new GraphboxExecutionError(response);
    return response;
  }

  /**
   * Runs a program, yielding its events as they happen; the last is `complete` or `error`. Leaving
   * the loop early closes the connection, which cancels the execution (the contract's rule).
   */
  stream(request: ExecuteRequest, options: StreamOptions = {}): AsyncIterable<StreamEvent> {
    return this.follow({ request, after: 0, ...options });
  }

  /**
   * Reads a stream to its end, calling `onEvent` with each event, and answers as executeOrThrow():
   * the outcome, or `GraphboxExecutionError` when the program failed.
   */
  async runOrThrow(
    request: ExecuteRequest,
    options: StreamOptions & { onEvent?: (event: StreamEvent) => void } = {},
  ): Promise<ExecuteSuccess> {
    for await (const event of this.stream(request, options)) {
      options.onEvent?.(event);
      if (event.event === "error") {
        const { type: _type, ...failure } = event.data;
        throw new GraphboxExecutionError(failure);
      }
      if (event.event === "complete") {
        const { type: _type, ...success } = event.data;
        return success;
      }
    }
    throw new Error("unreachable: a stream ends with its terminal event or throws");
  }

  /** Draws a program's graph without running it: nodes, edges (conditional ones marked) and its schemas. */
  describe(program: DescribeRequest, options: CallOptions = {}): Promise<GraphDescription> {
    return this.json<GraphDescription>({ route: "describe", body: program, ...options });
  }

  /** The engine is alive (no API key needed). */
  health(options: CallOptions = {}): Promise<Health> {
    return this.json<Health>({ route: "health", ...options });
  }

  /** The engine can run programs: runtimes, sandbox, store. Throws `GraphboxError` (503) when not. */
  ready(options: CallOptions = {}): Promise<Ready> {
    return this.json<Ready>({ route: "ready", ...options });
  }

  private async send(spec: RequestSpec): Promise<Response> {
    const { method } = ROUTES[spec.route];
    let url = this.url + pathOf(spec.route, spec.id);
    const query = Object.entries(spec.query ?? {}).filter((e): e is [string, string] => e[1] !== undefined);
    if (query.length > 0) url += `?${new URLSearchParams(query).toString()}`;
    const response = await this.fetch(url, {
      method,
      headers: {
        ...this.headers,
        ...(spec.body !== undefined ? { "content-type": "application/json" } : {}),
        ...spec.headers,
      },
      ...(spec.body !== undefined ? { body: JSON.stringify(spec.body) } : {}),
      ...(spec.signal ? { signal: spec.signal } : {}),
    });
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  private async json<T>(spec: RequestSpec): Promise<T> {
    return (await (await this.send(spec)).json()) as T;
  }

  /**
   * The events of one execution: from POST /stream when `request` is given, else from GET
   * /executions/{id}/stream; after a drop, GET again from the last id read, so no event comes twice
   * or goes missing.
   */
  private async *follow(options: {
    request?: ExecuteRequest;
    executionId?: string;
    after: number;
    reconnect?: boolean;
    signal?: AbortSignal;
  }): AsyncGenerator<StreamEvent> {
    const { signal } = options;
    let executionId = options.executionId ?? null;
    let lastId = options.after;
    let failures = 0;
    let cause: unknown = null;
    let first = true;
    for (;;) {
      try {
        const post = first && options.request !== undefined;
        first = false;
        const response = post
          ? await this.send({ route: "stream", body: options.request, ...(signal ? { signal } : {}) })
          : await this.send({
              route: "executionStream",
              id: executionId ?? "",
              headers: { "last-event-id": String(lastId) },
              ...(signal ? { signal } : {}),
            });
        if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream") || !response.body)
          throw new GraphboxError({ status: response.status, body: await response.text() });
        for await (const frame of readSse(response.body)) {
          const event = eventOf(frame);
          // Unknown names are a newer engine's: skipped, as an EventSource would. Replays may repeat.
          if (!event || event.id <= lastId) continue;
          lastId = event.id;
          failures = 0;
          if (event.event === "metadata") executionId = event.data.execution_id;
          yield event;
          if (isTerminal(event)) return;
        }
        cause = null;
      } catch (err: unknown) {
        // Refusals (HTTP errors), aborts and a broken event are the caller's; a dropped connection is ours.
        if (err instanceof GraphboxError || signal?.aborted || err instanceof SyntaxError) throw err;
        cause = err;
      }
      if (options.reconnect === false || executionId === null || failures >= this.maxReconnects) {
        throw new GraphboxStreamError({
          message:
            executionId === null
              ? "the stream broke before it named its execution"
              : `the stream of execution ${executionId} ended before its complete or error event`,
          executionId,
          lastEventId: lastId,
          cause,
        });
      }
      await delay(this.reconnectDelayMs * 2 ** failures, signal);
      failures += 1;
    }
  }
}

/** An SSE frame as a typed event; null for a name the client does not know. */
function eventOf(frame: { id: string | null; event: string; data: string }): StreamEvent | null {
  if (!STREAM_EVENTS.has(frame.event)) return null;
  const id = Number(frame.id);
  if (!Number.isSafeInteger(id) || id < 1) throw new SyntaxError(`an event without a valid id: ${frame.id}`);
  const data = JSON.parse(frame.data) as { type?: unknown };
  if (typeof data !== "object" || data === null || data.type !== frame.event)
    throw new SyntaxError(`event ${id} (${frame.event}) carries data of another type`);
  return { id, event: frame.event, data } as StreamEvent;
}

async function errorOf(response: Response): Promise<GraphboxError> {
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's page): kept as text.
  }
  const retry = Number(response.headers.get("retry-after"));
  return new GraphboxError({
    status: response.status,
    body,
    ...(response.headers.has("retry-after") && Number.isFinite(retry) ? { retryAfter: retry } : {}),
  });
}

function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
