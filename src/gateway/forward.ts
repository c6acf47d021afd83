/**
 * One admitted call on its way to the provider and back: the real key put on, the answer streamed
 * to the program as it arrives (no faster than the program reads), its usage read on the way, and
 * the call's reservation settled exactly once however it ends.
 */
import {
  request as httpRequest,
  type Agent as HttpAgent,
  type ClientRequest,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import { request as httpsRequest, type Agent as HttpsAgent } from "node:https";

import type { LlmCallInfo } from "../observability/observer.ts";
import type { ExecutionAccount, Reservation } from "./accounts.ts";
import type { Hold } from "./holdings.ts";
import type { UsageRecord } from "./meter.ts";
import type { Operation, Provider } from "./providers.ts";
import { refuse } from "./refusal.ts";
import { StreamUsageTap, usageOfBody, type Usage } from "./usage.ts";

/**
 * Request headers the upstream gets from the program; every other one is dropped. Not among
 * them: `openai-organization` and `openai-project`, which would let a program pick another
 * organisation or project of the operator's key, and anything carrying a key.
 */
const FORWARDED_REQUEST_HEADERS = new Set([
  "accept",
  "user-agent",
  "anthropic-version",
  "anthropic-beta",
  "openai-beta",
  "idempotency-key",
]);
const forwardedRequestHeader = (name: string): boolean =>
  FORWARDED_REQUEST_HEADERS.has(name) || name.startsWith("x-stainless-");
const DROPPED_RESPONSE_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "content-length",
  "set-cookie",
]);
/** How much of a JSON answer is kept to read its usage; a bigger answer is charged its reservation. */
const MAX_ANSWER_BYTES_READ = 8 * 1024 * 1024;

/** The code of the error an upstream request is destroyed with when it did not start answering in time. */
const UPSTREAM_TIMEOUT = "GBX_GATEWAY_UPSTREAM_TIMEOUT";

class UpstreamTimeoutError extends Error {
  readonly code = UPSTREAM_TIMEOUT;
}

/** Told by its code, not its message: a socket error's text is the operating system's. */
const isUpstreamTimeout = (err: unknown): boolean =>
  typeof err === "object" && err !== null && (err as { code?: unknown }).code === UPSTREAM_TIMEOUT;

/** A call the gateway admitted, read and reserved tokens for. */
export interface ForwardCall {
  req: IncomingMessage;
  res: ServerResponse;
  provider: Provider;
  operation: Operation;
  /** Path and query on the provider's base URL. */
  target: string;
  /** The body as it is forwarded (parsed and written again). */
  body: Buffer;
  /** The model the request names; the answer's own replaces it where it says one. */
  requestModel: string;
  account: ExecutionAccount;
  stream: boolean;
  reservation: Reservation;
  /** Bytes held for this call; the answer kept to read its usage counts here too. */
  hold: Hold;
}

/** What every call shares: the gateway's connections upstream, its timeout, its observers. */
export interface ForwardContext {
  agents: { http: HttpAgent; https: HttpsAgent };
  /** Time allowed for the upstream to start answering. */
  upstreamTimeoutMs: number;
  /** Told of every forwarded call when it ends (metrics, traces). */
  onCall?: (call: LlmCallInfo) => void;
}

/** Sends the call upstream and relays its answer; settles everything when it ends, however it ends. */
export function forward(call: ForwardCall, context: ForwardContext): void {
  const { req, res, provider } = call;
  const record = new CallRecord(call, context.onCall);
  const upstream = openUpstream(call, context.agents);
  const timer = setTimeout(
    () => upstream.destroy(new UpstreamTimeoutError(`no answer within ${context.upstreamTimeoutMs} ms`)),
    context.upstreamTimeoutMs,
  );
  upstream.on("response", (answer) => {
    clearTimeout(timer);
    relayAnswer(answer, { call, record });
  });
  upstream.on("error", (err) => {
    clearTimeout(timer);
    if (record.answered !== null) {
      record.cutShort();
      res.destroy();
      return;
    }
    record.end(0, call.requestModel, null);
    const timedOut = isUpstreamTimeout(err);
    refuse({
      req,
      res,
      provider,
      refusal: {
        status: timedOut ? 504 : 502,
        message: `graphbox gateway: upstream ${provider.name} ${timedOut ? "did not answer in time" : `unreachable (${err.message})`}`,
      },
    });
  });
  // A program that hangs up stops the upstream call too; what it already got is charged.
  res.on("close", () => {
    if (res.writableFinished) return;
    upstream.destroy();
    record.cutShort();
  });
  upstream.end(call.body);
}

function openUpstream(call: ForwardCall, agents: ForwardContext["agents"]): ClientRequest {
  const target = new URL(call.provider.baseUrl + call.target);
  const https = target.protocol === "https:";
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(call.req.headers)) {
    if (value !== undefined && forwardedRequestHeader(name)) headers[name] = value;
  }
  Object.assign(headers, call.provider.authHeaders(call.provider.key!), { "content-length": String(call.body.length) });
  if (call.body.length > 0) headers["content-type"] = "application/json";
  return (https ? httpsRequest : httpRequest)(target, {
    method: call.operation.method,
    headers,
    agent: https ? agents.https : agents.http,
  });
}

/** Passes the upstream's answer on chunk by chunk, and charges the usage it reported once it ends. */
function relayAnswer(answer: IncomingMessage, { call, record }: { call: ForwardCall; record: CallRecord }): void {
  const { res } = call;
  const status = answer.statusCode ?? 502;
  record.answered = status;
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(answer.headers)) {
    if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value;
  }
  res.writeHead(status, headers);
  res.flushHeaders();
  const usage = new AnswerUsage(String(answer.headers["content-type"] ?? "").includes("text/event-stream"), call.hold);
  answer.on("data", (chunk: Buffer) => {
    record.firstByte();
    // Pass each chunk on as it arrives (the first token must not wait for the last), but no
    // faster than the program reads: an unread answer waits upstream, not in the engine.
    if (!res.write(chunk)) {
      answer.pause();
      res.once("drain", () => answer.resume());
    }
    usage.push(chunk);
  });
  answer.on("end", () => {
    res.end();
    if (status >= 400) return record.end(status, call.requestModel, null);
    const read = usage.result(call.requestModel);
    const charged = read.usage
      ? {
          model: read.model,
          input_tokens: read.usage.input_tokens,
          output_tokens: read.usage.output_tokens,
          total_tokens: read.usage.input_tokens + read.usage.output_tokens,
        }
      : "reservation";
    record.end(status, read.model, charged);
  });
  answer.on("error", () => {
    record.cutShort();
    res.destroy();
  });
}

/**
 * Reads an answer's usage as it passes: a stream through a tap, a JSON body kept whole (within
 * MAX_ANSWER_BYTES_READ and the call's hold; past them it is charged its reservation).
 */
class AnswerUsage {
  private readonly tap: StreamUsageTap | null;
  private kept: Buffer[] | null = [];
  private keptBytes = 0;

  constructor(
    streaming: boolean,
    private readonly hold: Hold,
  ) {
    this.tap = streaming ? new StreamUsageTap() : null;
  }

  push(chunk: Buffer): void {
    if (this.tap) return this.tap.push(chunk);
    if (!this.kept) return;
    if (this.keptBytes + chunk.length > MAX_ANSWER_BYTES_READ || this.hold.grow(chunk.length)) this.kept = null;
    else {
      this.kept.push(chunk);
      this.keptBytes += chunk.length;
    }
  }

  /** The usage the answer reported (null: none could be read) and the model it names. */
  result(requestModel: string): { model: string; usage: Usage | null } {
    if (this.tap) return { model: requestModel, usage: this.tap.result() };
    const kept = this.kept;
    this.kept = null;
    if (!kept) return { model: requestModel, usage: null };
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(kept, this.keptBytes).toString("utf8"));
      const answeredModel =
        typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>)["model"] : undefined;
      return { model: typeof answeredModel === "string" ? answeredModel : requestModel, usage: usageOfBody(parsed) };
    } catch {
      return { model: requestModel, usage: null };
    }
  }
}

/** Settles a call's reservation and tells the observers, exactly once whichever way the call ends. */
class CallRecord {
  /** The upstream's status once it answered (null before). */
  answered: number | null = null;
  private readonly startedAt = Date.now();
  private readonly started = performance.now();
  private readonly node: string | null;
  private firstByteMs: number | null = null;
  private done = false;

  constructor(
    private readonly call: ForwardCall,
    private readonly onCall: ForwardContext["onCall"],
  ) {
    this.node = call.account.currentNode();
  }

  firstByte(): void {
    this.firstByteMs ??= performance.now() - this.started;
  }

  end(status: number, model: string, charged: UsageRecord | "reservation" | null): void {
    if (this.done) return;
    this.done = true;
    const { account, reservation, provider, operation, stream } = this.call;
    account.settle(reservation, charged, model);
    const usage =
      charged === "reservation" ? { input_tokens: reservation.input, output_tokens: reservation.output } : charged;
    this.onCall?.({
      executionId: account.executionId,
      provider: provider.name,
      operation: operation.path,
      model,
      stream,
      status,
      inputTokens: usage?.input_tokens ?? 0,
      outputTokens: usage?.output_tokens ?? 0,
      node: this.node,
      startedAt: this.startedAt,
      durationMs: performance.now() - this.started,
      firstByteMs: this.firstByteMs,
    });
  }

  /** The answer was cut short: after a 2xx it is charged its reservation (the program may have used it), after an error nothing. */
  cutShort(): void {
    const answered = this.answered;
    this.end(answered ?? 0, this.call.requestModel, answered !== null && answered < 400 ? "reservation" : null);
  }
}
