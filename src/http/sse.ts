/** Server-Sent Events on a raw response: ids, names, JSON data, keep-alive comments. */
import type { ServerResponse } from "node:http";

import type { FastifyReply } from "fastify";

import { EVENT_TYPES } from "../contract/types.ts";
import type { StoredEvent } from "../store/types.ts";

const EVENT_NAMES: ReadonlySet<string> = new Set(EVENT_TYPES);

export class SseStream {
  private readonly raw: ServerResponse;
  private keepAlive: NodeJS.Timeout;
  private closed = false;

  /**
   * `onGone` runs when the client goes away before the stream ended. The reply's headers set so
   * far (CORS) go out too: a hijacked reply no longer sends them itself.
   */
  constructor(reply: FastifyReply, keepAliveMs: number, onGone: () => void, headers: Record<string, string> = {}) {
    const raw = (this.raw = reply.raw);
    reply.hijack();
    raw.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      ...headers,
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // Proxies such as nginx would otherwise buffer the stream.
      "x-accel-buffering": "no",
    });
    raw.flushHeaders();
    this.keepAlive = setInterval(() => this.comment("keepalive"), keepAliveMs);
    raw.on("close", () => {
      if (!this.closed) {
        this.stop();
        onGone();
      }
    });
  }

  /**
   * Writes one event. Its name must be one of the engine's (a program's string never becomes an
   * `event:` line), its id a number, and its data JSON, which holds no raw line break.
   */
  send(event: StoredEvent): void {
    if (this.closed) return;
    if (!EVENT_NAMES.has(event.type) || !Number.isSafeInteger(event.seq) || /[\r\n]/.test(event.json)) {
      throw new Error(
        `refusing to stream event ${event.seq} (${JSON.stringify(event.type).slice(0, 64)}): not an event of the engine's in one line of JSON`,
      );
    }
    this.raw.write(`id: ${event.seq}\nevent: ${event.type}\ndata: `);
    this.raw.write(event.json);
    this.raw.write("\n\n");
    this.keepAlive.refresh();
  }

  /**
   * Writes one event of LangGraph's Agent API (src/agent/run-stream.ts names them): its name and
   * id printable ASCII without spaces, its data one line of JSON.
   */
  sendFrame(frame: { id: string; event: string; data: string }): void {
    if (this.closed) return;
    if (!/^[\x21-\x7e]{1,4096}$/u.test(frame.event) || !/^-?[0-9]{1,20}$/u.test(frame.id) || /[\r\n]/u.test(frame.data))
      throw new Error(`refusing to stream an event named ${JSON.stringify(frame.event).slice(0, 64)}: not one line`);
    this.raw.write(`event: ${frame.event}\ndata: `);
    this.raw.write(frame.data);
    this.raw.write(`\nid: ${frame.id}\n\n`);
    this.keepAlive.refresh();
  }

  private comment(text: string): void {
    if (!this.closed) this.raw.write(`: ${text}\n\n`);
  }

  end(): void {
    if (this.closed) return;
    this.stop();
    this.raw.end();
  }

  private stop(): void {
    this.closed = true;
    clearInterval(this.keepAlive);
  }
}
