/**
 * A stand-in for `@graphbox/client` with the same signatures, until that package is merged; then
 * this file becomes `export { GraphboxClient, GraphboxError } from "@graphbox/client"`. It speaks
 * the contract (CONTRACT.md) over fetch: JSON answers, and the stream's Server-Sent Events read from
 * the response body (EventSource cannot POST nor send the API key).
 */

export type Language = "python" | "javascript" | "typescript";

export interface Breakpoint {
  node: string;
  when: "before" | "after";
}

export interface ExecuteRequest {
  code: string;
  language?: Language;
  inputs?: unknown;
  resume?: unknown;
  config?: {
    thread_id?: string;
    debug?: boolean;
    breakpoints?: (string | Breakpoint)[];
    timeout_ms?: number;
    recursion_limit?: number;
    checkpoint_id?: string | null;
    configurable?: Record<string, unknown>;
  };
}

export interface NodeTiming {
  node: string;
  step: number;
  duration_ms: number;
  status?: "ok" | "error" | "interrupted";
  tokens?: number;
}

export interface ModelUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
  calls: number;
}

export interface ExecutionMetadata {
  duration_ms: number;
  tokens_used: number;
  nodes_executed: string[];
  execution_id: string;
  thread_id: string;
  checkpoint_id: string | null;
  runtime: Language;
  token_usage?: { total_tokens: number; by_model: Record<string, ModelUsage> };
  cost?: { currency: string; total: number; by_model: Record<string, number> };
  node_timings?: NodeTiming[];
  next?: string[];
  interrupts?: { id: string; value: unknown }[];
  logs?: string;
  debug?: Record<string, unknown>[];
}

export interface ExecuteSuccess {
  status: "success" | "interrupted";
  result: { messages: unknown[]; state: Record<string, unknown>; metadata: ExecutionMetadata };
}

export interface ExecuteFailure {
  status: "error";
  error: string;
  error_type: string;
  code?: string;
  node?: string | null;
  traceback?: string | null;
  execution_id?: string;
  metadata?: ExecutionMetadata;
}

export type ExecuteResponse = ExecuteSuccess | ExecuteFailure;

/** One Server-Sent Event of a stream: its id, its name and its parsed data (whose `type` is the name). */
export interface StreamEvent {
  id: number;
  event: string;
  // The data's shape depends on the event's name (CONTRACT.md's table); the page narrows it.
  data: Record<string, unknown>;
}

export interface GraphDrawing {
  graph: {
    nodes: { id: string; type: string; data: unknown }[];
    edges: { source: string; target: string; conditional: boolean }[];
  };
}

export interface Checkpoint {
  checkpoint_id: string;
  parent_checkpoint_id: string | null;
  step: number;
  source: string;
  values: unknown;
  metadata?: unknown;
  created_at: string;
}

export interface ThreadHistory {
  thread_id: string;
  checkpoints: Checkpoint[];
}

/** An answer that is not a 2xx: the contract's envelope, as an exception. */
export class GraphboxError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errorType?: string;

  constructor(options: { message: string; status: number; code: string; errorType?: string }) {
    super(options.message);
    this.name = "GraphboxError";
    this.status = options.status;
    this.code = options.code;
    if (options.errorType !== undefined) this.errorType = options.errorType;
  }
}

interface CallOptions {
  signal?: AbortSignal;
}

export class GraphboxClient {
  private readonly url: string;
  private readonly apiKey: string | undefined;

  readonly executions = {
    get: (id: string): Promise<Record<string, unknown>> => this.json("GET", `/executions/${encodeURIComponent(id)}`),
    cancel: (id: string): Promise<Record<string, unknown>> =>
      this.json("POST", `/executions/${encodeURIComponent(id)}/cancel`, {}),
  };

  readonly threads = {
    state: (threadId: string): Promise<Record<string, unknown>> =>
      this.json("GET", `/threads/${encodeURIComponent(threadId)}/state`),
    history: (threadId: string): Promise<ThreadHistory> =>
      this.json("GET", `/threads/${encodeURIComponent(threadId)}/history`),
  };

  constructor(options: { url: string; apiKey?: string }) {
    this.url = options.url.replace(/\/+$/, "");
    this.apiKey = options.apiKey;
  }

  execute(request: ExecuteRequest, options: CallOptions = {}): Promise<ExecuteResponse> {
    return this.json("POST", "/execute-langgraph", request, options.signal);
  }

  describe(request: {
    code: string;
    language?: Language;
    files?: Record<string, string>;
    graph?: string;
    xray?: boolean;
  }): Promise<GraphDrawing> {
    return this.json("POST", "/execute-langgraph/graph", request);
  }

  async *stream(request: ExecuteRequest, options: CallOptions = {}): AsyncIterable<StreamEvent> {
    const response = await fetch(`${this.url}/execute-langgraph/stream`, {
      method: "POST",
      headers: { ...this.headers(), "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(request),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.ok || response.body === null) throw await errorOf(response);
    yield* readEvents(response.body);
  }

  private headers(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async json<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const response = await fetch(this.url + path, {
      method,
      headers: body === undefined ? this.headers() : { ...this.headers(), "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      ...(signal ? { signal } : {}),
    });
    if (!response.ok) throw await errorOf(response);
    return (await response.json()) as T;
  }
}

async function errorOf(response: Response): Promise<GraphboxError> {
  const text = await response.text().catch(() => "");
  let envelope: { error?: unknown; code?: unknown; error_type?: unknown } = {};
  try {
    envelope = JSON.parse(text) as typeof envelope;
  } catch {
    // Not the engine's envelope (a proxy's page): the status says enough.
  }
  return new GraphboxError({
    message: typeof envelope.error === "string" ? envelope.error : `HTTP ${response.status}`,
    status: response.status,
    code: typeof envelope.code === "string" ? envelope.code : `HTTP_${response.status}`,
    ...(typeof envelope.error_type === "string" ? { errorType: envelope.error_type } : {}),
  });
}

/** Server-Sent Events from a byte stream: `id:`, `event:` and `data:` lines, a blank line ends an event. */
async function* readEvents(body: ReadableStream<Uint8Array>): AsyncIterable<StreamEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let fields: { id?: string; event?: string; data: string[] } = { data: [] };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let newline: number;
      while ((newline = buffer.search(/\r?\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer[newline] === "\r" ? 2 : 1));
        if (line === "") {
          if (fields.data.length > 0) {
            yield {
              id: Number(fields.id ?? 0),
              event: fields.event ?? "message",
              data: JSON.parse(fields.data.join("\n")) as Record<string, unknown>,
            };
          }
          fields = { data: [] };
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const name = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (name === "id") fields.id = text;
        else if (name === "event") fields.event = text;
        else if (name === "data") fields.data.push(text);
      }
    }
  } finally {
    // A consumer that stops early (the page's Stop) closes the connection: the engine then cancels the run.
    await reader.cancel().catch(() => undefined);
  }
}
