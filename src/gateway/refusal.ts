/** The gateway's own answers: a call it will not forward, in the shape the program's client expects. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

import type { Provider } from "./providers.ts";

/** How long a refused request's remaining body is read (and dropped) before its connection is closed. */
const DRAIN_GRACE_MS = 1_000;

export interface Refusal {
  status: number;
  message: string;
  headers?: OutgoingHttpHeaders;
  /** Close the connection after the answer (a body left unread, a connection over the cap). */
  close?: boolean;
}

export interface RefuseOptions {
  req: IncomingMessage;
  res: ServerResponse;
  /** The provider the call was for, whose error shape the answer takes; null: OpenAI's shape. */
  provider: Provider | null;
  refusal: Refusal;
}

/** Answers a refusal, unless the answer already began or its client is gone. */
export function refuse({ req, res, provider, refusal }: RefuseOptions): void {
  if (res.headersSent || res.destroyed) return;
  const body = provider
    ? provider.errorBody(refusal.status, refusal.message)
    : { error: { message: refusal.message, type: "invalid_request_error", param: null, code: "graphbox_gateway" } };
  if (refusal.close && req.complete) res.shouldKeepAlive = false;
  res.writeHead(refusal.status, { "content-type": "application/json", ...refusal.headers });
  res.end(JSON.stringify(body));
  if (req.complete) return;
  // The rest of the body is read and dropped, never kept, so the client gets to read the answer
  // (closing on unread data would reset the connection under it); a client still sending after
  // a grace period loses the connection.
  req.resume();
  const timer = setTimeout(() => req.socket.destroy(), DRAIN_GRACE_MS);
  const stop = (): void => clearTimeout(timer);
  req.once("end", () => {
    stop();
    if (refusal.close) req.socket.end();
  });
  req.socket.once("close", stop);
}
