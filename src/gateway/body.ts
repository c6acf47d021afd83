/**
 * Receives a call's body within its limits and parses it as JSON whatever its content type, so
 * that metering, the budget and the model allowlist see every body (a `text/plain` POST used to
 * pass unparsed, unmetered and unchecked).
 */
import type { IncomingMessage } from "node:http";

import type { Hold } from "./holdings.ts";

export type Refusal = { status: number; message: string };

export interface BodyLimits {
  maxBytes: number;
  timeoutMs: number;
}

/** The body, or why it was refused; `status: 0` when the client went away (nobody to answer). */
export type Received = { ok: true; body: Buffer } | ({ ok: false } & Refusal);

function holdRefusal(refused: "execution" | "gateway", bytes: number, limit: number): Refusal {
  return refused === "execution"
    ? {
        status: 429,
        message: `graphbox gateway: this execution's calls in flight already hold what it may buffer (${limit} bytes); ${bytes} more do not fit, retry when they end`,
      }
    : {
        status: 503,
        message:
          "graphbox gateway: the gateway holds all the request bytes it may buffer for every execution; retry shortly",
      };
}

/**
 * Reads the body into memory the hold has paid for: a declared Content-Length is taken whole
 * before the first byte is read, a chunked body chunk by chunk. Never more than `maxBytes`,
 * never longer than `timeoutMs` (a client trickling a body one byte at a time gets 408).
 */
export function receiveBody(
  req: IncomingMessage,
  hold: Hold,
  limits: BodyLimits,
  executionLimit: number,
): Promise<Received> {
  const declaredHeader = req.headers["content-length"];
  const declared = declaredHeader === undefined ? null : Number(declaredHeader);
  if (declared !== null && !(Number.isSafeInteger(declared) && declared >= 0))
    return Promise.resolve({ ok: false, status: 400, message: "graphbox gateway: invalid Content-Length" });
  if (declared !== null && declared > limits.maxBytes)
    return Promise.resolve({ ok: false, ...tooLarge(limits.maxBytes) });
  const encoding = req.headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    return Promise.resolve({
      ok: false,
      status: 415,
      message: "graphbox gateway: compressed request bodies are not accepted; send plain JSON",
    });
  }
  if (declared !== null) {
    const refused = hold.grow(declared);
    if (refused) return Promise.resolve({ ok: false, ...holdRefusal(refused, declared, executionLimit) });
  }
  return new Promise<Received>((resolve) => {
    const whole = declared !== null ? Buffer.allocUnsafe(declared) : null;
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: Received): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("close", onClose);
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          status: 408,
          message: `graphbox gateway: the request body did not arrive within ${limits.timeoutMs} ms`,
        }),
      limits.timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > limits.maxBytes) return finish({ ok: false, ...tooLarge(limits.maxBytes) });
      if (whole) {
        // The parser holds Content-Length framing, so this never overruns; still, never write past it.
        if (size + chunk.length > whole.length)
          return finish({ ok: false, status: 400, message: "graphbox gateway: body longer than its Content-Length" });
        chunk.copy(whole, size);
      } else {
        const refused = hold.grow(chunk.length);
        if (refused) return finish({ ok: false, ...holdRefusal(refused, chunk.length, executionLimit) });
        chunks.push(chunk);
      }
      size += chunk.length;
    };
    const onEnd = (): void => finish({ ok: true, body: whole ? whole.subarray(0, size) : Buffer.concat(chunks, size) });
    const onClose = (): void => finish({ ok: false, status: 0, message: "the client closed the connection" });
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("close", onClose);
  });
}

function tooLarge(maxBytes: number): Refusal {
  return {
    status: 413,
    message: `graphbox gateway: request body larger than ${maxBytes} bytes (GRAPHBOX_GATEWAY_MAX_BODY_BYTES)`,
  };
}

export type Parsed = { ok: true; json: Record<string, unknown> } | ({ ok: false } & Refusal);

/** The body as a JSON object, or 415 (not JSON at all) / 400 (JSON, but not an object). */
export function parseBody(body: Buffer): Parsed {
  if (body.length === 0)
    return { ok: false, status: 400, message: "graphbox gateway: the request body is empty; expected a JSON object" };
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    return {
      ok: false,
      status: 415,
      message:
        "graphbox gateway: the request body is not JSON; the gateway forwards JSON bodies only, whatever the Content-Type says",
    };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, status: 400, message: "graphbox gateway: the request body must be a JSON object" };
  return { ok: true, json: value as Record<string, unknown> };
}

/**
 * What is forwarded is what was checked: the parsed object written again, so that a body the
 * upstream could read differently (a duplicate `model` key, a byte-order mark) cannot pass the
 * allowlist as one model and reach the provider as another.
 */
export function serialise(json: Record<string, unknown>): Buffer | Refusal {
  try {
    return Buffer.from(JSON.stringify(json), "utf8");
  } catch {
    return { status: 400, message: "graphbox gateway: the request body is nested too deeply to forward" };
  }
}
