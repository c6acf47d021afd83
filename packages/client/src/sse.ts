/**
 * Server-Sent Events read from a fetch body (WHATWG's event stream format: `field: value` lines,
 * a blank line ends an event, `:` starts a comment), with the one-event size bounded.
 */

export interface SseFrame {
  id: string | null;
  event: string;
  data: string;
}

/** An event larger than this is refused: a complete event holds the whole result, never gigabytes. */
export const MAX_EVENT_CHARS = 256 * 1024 * 1024;

/**
 * Yields each event as its blank line arrives. Leaving the loop early (break, throw) cancels the
 * body, which closes the connection.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  maxEventChars: number = MAX_EVENT_CHARS,
): AsyncGenerator<SseFrame> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let frame: { id: string | null; event: string; data: string[] } = { id: null, event: "", data: [] };
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      let end: number;
      // A line ends at \n, \r\n or \r; a lone \r at the buffer's end may be half of a \r\n.
      while ((end = lineEnd(buffer, done)) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(buffer[end] === "\r" && buffer[end + 1] === "\n" ? end + 2 : end + 1);
        if (line === "") {
          if (frame.data.length > 0)
            yield { id: frame.id, event: frame.event || "message", data: frame.data.join("\n") };
          frame = { id: null, event: "", data: [] };
          size = 0;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(line[colon + 1] === " " ? colon + 2 : colon + 1);
        size += value.length;
        if (size > maxEventChars)
          throw new RangeError(`an event of the stream is larger than ${maxEventChars} characters`);
        if (field === "data") frame.data.push(value);
        else if (field === "event") frame.event = value;
        else if (field === "id" && !value.includes("\0")) frame.id = value;
      }
      if (buffer.length > maxEventChars)
        throw new RangeError(`a line of the stream is longer than ${maxEventChars} characters`);
      if (done) return;
    }
  } finally {
    // Ends the request when the reader leaves early; a finished body ignores it.
    reader.cancel().catch(() => undefined);
  }
}

function lineEnd(buffer: string, done: boolean): number {
  const n = buffer.indexOf("\n");
  const r = buffer.indexOf("\r");
  if (r < 0) return n;
  if (r === buffer.length - 1 && !done) return n >= 0 && n < r ? n : -1;
  return n < 0 ? r : Math.min(n, r);
}
