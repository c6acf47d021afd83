/**
 * An absolute-form HTTP request sent again, by the engine, to the address the policy checked, its
 * answer streamed back; hop-by-hop and proxy headers stay behind, redirects are the client's to
 * follow (each next hop is checked again).
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from "node:http";

import type { EgressConnectionInfo } from "../observability/observer.ts";
import type { EgressAccount } from "./account.ts";
import { HOP_HEADERS, relay } from "./relay.ts";
import type { Decision } from "./target.ts";

export function forward({
  account,
  req,
  res,
  path,
  decision,
  info,
  report,
}: {
  account: EgressAccount;
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  decision: Extract<Decision, { ok: true }>;
  info: EgressConnectionInfo;
  report: (info: EgressConnectionInfo) => void;
}): void {
  const metered = !decision.gateway;
  const label = decision.label;
  const bytes = { in: 0, out: 0 };
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (!HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
  }
  const upstream = httpRequest({
    host: decision.address.address,
    port: decision.port,
    method: req.method ?? "GET",
    path,
    headers,
    setHost: false,
    agent: false,
  });
  if (metered) {
    account.request(label);
    account.connections.add(req.socket);
  }
  const held = req.socket;
  const pass = (direction: "in" | "out", chunk: Buffer): boolean => {
    bytes[direction] += chunk.length;
    return !metered || account.count(label, direction, chunk.length);
  };
  const timer = setTimeout(() => {
    if (!res.headersSent) {
      res.writeHead(504, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(
        `graphbox egress: ${label}:${decision.port} took longer than GRAPHBOX_EGRESS_CONNECTION_TIMEOUT_MS (${account.limits.connectionTimeoutMs} ms)\n`,
      );
    } else res.destroy();
    upstream.destroy();
  }, account.limits.connectionTimeoutMs);
  let status = 0;
  upstream.once("response", (answer: IncomingMessage) => {
    status = answer.statusCode ?? 502;
    const back: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!HOP_HEADERS.has(name) && value !== undefined) back[name] = value;
    }
    res.writeHead(status, back);
    relay(answer, res, (chunk) => pass("in", chunk));
  });
  upstream.once("error", (err: Error) => {
    if (!res.headersSent) {
      status = 502;
      res.writeHead(502, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      res.end(
        `graphbox egress: could not reach ${label}:${decision.port}: ${(err as NodeJS.ErrnoException).code ?? err.message}\n`,
      );
    } else res.destroy();
  });
  relay(req, upstream, (chunk) => pass("out", chunk));
  res.once("close", () => {
    clearTimeout(timer);
    upstream.destroy();
    account.connections.delete(held);
    if (metered)
      report({
        ...info,
        address: decision.address.address,
        status,
        bytesIn: bytes.in,
        bytesOut: bytes.out,
        durationMs: Date.now() - info.startedAt,
      });
  });
}
