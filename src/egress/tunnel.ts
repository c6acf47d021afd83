/**
 * A CONNECT tunnel to the address the policy checked: bytes both ways, counted against the
 * execution's limits (the gateway's own port, passed through, is not egress and is not counted),
 * closed at the connection time limit. TLS passes through untouched.
 */
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";

import type { EgressConnectionInfo } from "../observability/observer.ts";
import type { EgressAccount } from "./account.ts";
import { rawAnswer, relay } from "./relay.ts";
import type { Decision } from "./target.ts";

export function openTunnel({
  account,
  client,
  head,
  decision,
  info,
  report,
}: {
  account: EgressAccount;
  client: Duplex;
  head: Buffer;
  decision: Extract<Decision, { ok: true }>;
  info: EgressConnectionInfo;
  report: (info: EgressConnectionInfo) => void;
}): void {
  const metered = !decision.gateway;
  const label = decision.label;
  const upstream: Socket = connect({ host: decision.address.address, port: decision.port });
  const bytes = { in: 0, out: 0 };
  let opened = false;
  if (metered) {
    account.request(label);
    account.connections.add(client);
  }
  // The gateway's own calls (an LLM stream may be long) are bounded by the gateway, not here.
  const timer = metered
    ? setTimeout(() => {
        client.destroy();
        upstream.destroy();
      }, account.limits.connectionTimeoutMs)
    : null;
  const pass = (direction: "in" | "out", chunk: Buffer): boolean => {
    bytes[direction] += chunk.length;
    return !metered || account.count(label, direction, chunk.length);
  };
  upstream.once("connect", () => {
    opened = true;
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0 && pass("out", head)) upstream.write(head);
    relay(client, upstream, (chunk) => pass("out", chunk));
    relay(upstream, client, (chunk) => pass("in", chunk));
  });
  upstream.once("error", (err: Error) => {
    const why = (err as NodeJS.ErrnoException).code ?? err.message;
    if (!opened) client.end(rawAnswer(502, `graphbox egress: could not connect to ${label}:${decision.port}: ${why}`));
    else client.destroy();
  });
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    if (timer) clearTimeout(timer);
    upstream.destroy();
    client.destroy();
    account.connections.delete(client);
    if (metered)
      report({
        ...info,
        address: decision.address.address,
        status: opened ? 200 : 502,
        bytesIn: bytes.in,
        bytesOut: bytes.out,
        durationMs: Date.now() - info.startedAt,
      });
  };
  client.once("close", finish);
  upstream.once("close", () => {
    // The upstream's end reaches the client first (relay's end()); then the tunnel is over.
    if (!opened) finish();
  });
}
