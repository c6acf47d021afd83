/**
 * Raw HTTP to the gateway, as a hostile program would send it: the path goes out byte for byte
 * (fetch and URL would resolve `..` and percent-escapes before sending), any method, any body.
 */
import { request } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The answer's JSON, or null when it was not JSON. */
  json: Record<string, unknown> | null;
}

export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, headers: options.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: Record<string, unknown> | null = null;
        try {
          const value: unknown = JSON.parse(text);
          if (typeof value === "object" && value !== null) json = value as Record<string, unknown>;
        } catch {
          json = null;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

/** The message of an error answer in either provider's shape. */
export function errorMessage(answer: RawAnswer): string {
  const error = answer.json?.["error"];
  return typeof error === "object" && error !== null
    ? String((error as Record<string, unknown>)["message"])
    : answer.text;
}

/**
 * A connection that sends `head` (request line and headers, as given) and then whatever the
 * test writes; `answer` resolves with the first answer's status once its head has arrived, or
 * null when the gateway closed the connection without one; `closed` when the connection ends.
 */
export function heldConnection(
  baseUrl: string,
  head: string,
): { socket: Socket; answer: Promise<{ status: number | null; text: string }>; closed: Promise<void> } {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  socket.write(head);
  let text = "";
  let answered: (value: { status: number | null; text: string }) => void = () => undefined;
  const answer = new Promise<{ status: number | null; text: string }>((resolve) => (answered = resolve));
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    const match = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n/.exec(text);
    if (match) answered({ status: Number(match[1]), text });
  });
  // Writes into a connection the gateway closed fail with EPIPE/ECONNRESET: that is the point.
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => {
    socket.on("close", () => {
      answered({ status: null, text });
      resolve();
    });
  });
  return { socket, answer, closed };
}
