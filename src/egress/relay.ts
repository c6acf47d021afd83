/** What the proxy's two ways of relaying share: hop-by-hop headers, raw refusals on a socket, and a counted copy. */
import type { Readable, Writable } from "node:stream";

/** Headers that describe one hop, never forwarded (RFC 9110 §7.6.1), and the proxy's own. */
export const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
export const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  407: "Proxy Authentication Required",
  429: "Too Many Requests",
  502: "Bad Gateway",
};

/** An HTTP answer written on a raw socket (a CONNECT's), closing it. */
export function rawAnswer(status: number, message: string, extraHeaders = ""): string {
  const body = `${message}\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Refused"}\r\ncontent-type: text/plain; charset=utf-8\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extraHeaders}\r\n${body}`
  );
}

/**
 * Copies `from` to `to`, each chunk counted first (false: the execution is over its limit, and the
 * connection is dropped), with backpressure: a peer that does not read stops the other side.
 */
export function relay(from: Readable, to: Writable, count: (chunk: Buffer) => boolean): void {
  from.on("data", (chunk: Buffer) => {
    if (!count(chunk)) {
      from.destroy();
      to.destroy();
      return;
    }
    if (!to.write(chunk)) {
      from.pause();
      to.once("drain", () => from.resume());
    }
  });
  from.once("end", () => to.end());
}
