/** A real SSE client over fetch: reads `id:`/`event:`/`data:` frames and comments as they arrive. */

export interface SseEvent {
  id: number;
  event: string;
  data: Record<string, unknown>;
}

export interface SseRead {
  status: number;
  contentType: string;
  events: SseEvent[];
  comments: string[];
}

/** Parses complete frames from `buffer`; returns what is left over. */
function parseFrames(buffer: string, events: SseEvent[], comments: string[], onEvent?: (e: SseEvent) => void): string {
  let end: number;
  while ((end = buffer.indexOf("\n\n")) >= 0) {
    const frame = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    const fields: Record<string, string> = {};
    for (const line of frame.split("\n")) {
      if (line.startsWith(":")) comments.push(line.slice(1).trim());
      else {
        const colon = line.indexOf(":");
        if (colon > 0)
          fields[line.slice(0, colon)] = (fields[line.slice(0, colon)] ?? "") + line.slice(colon + 1).trimStart();
      }
    }
    if (fields["event"] !== undefined) {
      const event = {
        id: Number(fields["id"]),
        event: fields["event"],
        data: JSON.parse(fields["data"] ?? "null") as Record<string, unknown>,
      };
      events.push(event);
      onEvent?.(event);
    }
  }
  return buffer;
}

export interface SseOptions {
  method?: "GET" | "POST";
  body?: unknown;
  headers?: Record<string, string>;
  /** Called with every event as it arrives; return true to hang up. */
  onEvent?: (event: SseEvent) => boolean | void;
}

export async function readSse(url: string, options: SseOptions = {}): Promise<SseRead> {
  const hangUp = new AbortController();
  const response = await fetch(url, {
    method: options.method ?? "POST",
    headers: { ...(options.body !== undefined ? { "content-type": "application/json" } : {}), ...options.headers },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: hangUp.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const contentType = response.headers.get("content-type") ?? "";
  if (!contentType.startsWith("text/event-stream") || !response.body) {
    return {
      status: response.status,
      contentType,
      events: [{ id: 0, event: "http", data: (await response.json()) as Record<string, unknown> }],
      comments,
    };
  }
  const decoder = new TextDecoder();
  let buffer = "";
  let stop = false;
  try {
    for await (const chunk of response.body) {
      buffer = parseFrames(buffer + decoder.decode(chunk as Uint8Array, { stream: true }), events, comments, (e) => {
        if (options.onEvent?.(e) === true) stop = true;
      });
      if (stop) {
        hangUp.abort();
        break;
      }
    }
  } catch (err: unknown) {
    if (!stop) throw err;
  }
  return { status: response.status, contentType, events, comments };
}
