/**
 * LLM stand-in: a local, deterministic HTTP server that speaks enough of the
 * OpenAI and Anthropic wire protocols for the real SDKs and LangChain clients
 * (Python or JS) to run against it unmodified, so tests never need a network
 * connection, a real key, or money.
 *
 * Endpoints:
 *   OpenAI:    POST /v1/chat/completions (JSON + SSE, tool calls, stream usage)
 *              POST /v1/responses         (JSON + SSE, function calls)
 *              POST /v1/embeddings        (float or base64 vectors)
 *              GET  /v1/models
 *   Anthropic: POST /v1/messages          (JSON + SSE, tool_use)
 *              POST /v1/messages/count_tokens
 *              GET  /v1/models            (when the request carries Anthropic headers)
 *
 * Behaviour is a pure function of the request, so tests can predict replies
 * and token counts exactly:
 *   - reply: "Hello from the stand-in! You said: <last user text>", or a call to
 *     `multiply` when that tool is offered and the last user turn holds two
 *     integers, or "The answer is <result>." right after a tool result;
 *   - input tokens  = ceil(characters of all text content / 4) + 3 per message
 *     (an Anthropic top-level `system` counts as one message, exactly like an
 *     OpenAI system message, so the same conversation costs the same on both);
 *   - output tokens = words in the reply, or 5 per tool call.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { createHash } from "node:crypto";
import { TEST_IMAGE } from "./container.ts";

// ---------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------

export type Provider = "openai" | "anthropic";

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export interface RecordedCall {
  provider: Provider;
  /** Path without query string, e.g. "/v1/chat/completions" (Anthropic beta calls add `?beta=true`, dropped here). */
  path: string;
  /** Lower-cased request headers (authorization, x-api-key, ...). */
  headers: Record<string, string | undefined>;
  /** Parsed JSON request body (null for bodiless or unparseable requests). */
  body: unknown;
  stream: boolean;
  model: string;
  /** HTTP status we answered. */
  status: number;
  /** What we reported; null for errors and for calls that consume no tokens (model lists, count_tokens). */
  usage: TokenUsage | null;
}

export interface LlmStandInOptions {
  /** Delay before answering each call (ms). Default 0. */
  delayMs?: number;
  /** Delay between streamed chunks (ms). Default 0. */
  chunkDelayMs?: number;
}

export interface LlmStandIn {
  /** Base URL without path, e.g. http://127.0.0.1:43123 */
  url: string;
  /** For OpenAI clients: `${url}/v1` */
  openaiBaseUrl: string;
  /** For Anthropic clients: `${url}` (the Anthropic SDK appends /v1/messages itself) */
  anthropicBaseUrl: string;
  calls: RecordedCall[];
  /** Sum of total_tokens over all successful calls. */
  totalTokens(): number;
  /**
   * The next N calls answer with these HTTP statuses, in the provider's own
   * error JSON shape (then normal service resumes). E.g. failNext(500, 429).
   * 429 carries a `retry-after: 0` header.
   */
  failNext(...statuses: number[]): void;
  /** Clears calls, pending failures and the id counters. */
  reset(): void;
  close(): Promise<void>;
}

export async function startLlmStandIn(options: LlmStandInOptions = {}): Promise<LlmStandIn> {
  const delayMs = options.delayMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;
  const calls: RecordedCall[] = [];
  const pendingFailures: number[] = [];
  const ids = new IdSource();

  const server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      // Only reachable on a bug in this file or a dead socket; never hang the client.
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end(`llm stand-in crashed: ${String(err)}`);
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://stand-in");
    const headers = lowerCaseHeaders(req.headers);
    const rawBody = await readBody(req);
    const method = req.method ?? "GET";
    const route = findRoute(method, url.pathname);
    const provider = route?.provider ?? guessProvider(headers);
    const body = parseJson(rawBody);

    const call: RecordedCall = {
      provider,
      path: url.pathname,
      headers,
      body: body ?? null,
      stream: isObject(body) && body.stream === true,
      model: (isObject(body) ? asString(body.model) : undefined) ?? "",
      status: 0,
      usage: null,
    };

    const answer = answerFor({
      method,
      path: url.pathname,
      route,
      provider,
      headers,
      rawBody,
      body,
      ids,
      pendingFailures,
    });
    await sleep(delayMs);
    call.status = answer.status;
    call.usage = answer.status < 400 ? answer.usage : null;
    // Record before writing so a test that inspects `calls` mid-stream sees the call.
    calls.push(call);
    await writeAnswer(res, answer, chunkDelayMs);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // An engine in a container reaches the host by the bridge's address, not loopback.
    server.listen(0, TEST_IMAGE === null ? "127.0.0.1" : "0.0.0.0", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    anthropicBaseUrl: url,
    calls,
    totalTokens: () => calls.reduce((sum, c) => sum + (c.usage?.total_tokens ?? 0), 0),
    failNext: (...statuses: number[]) => {
      pendingFailures.push(...statuses);
    },
    reset: () => {
      calls.length = 0;
      pendingFailures.length = 0;
      ids.reset();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Clients keep pooled keep-alive sockets open; without this close() waits for them.
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------
// Request dispatch
// ---------------------------------------------------------------------------

type JsonObject = Record<string, unknown>;

interface SseEvent {
  /** SSE `event:` name; Anthropic and the Responses API name every event, Chat Completions does not. */
  event?: string;
  /** Payload; a string is written verbatim (used for OpenAI's `[DONE]`). */
  data: unknown;
}

type Answer =
  | { kind: "json"; status: number; body: unknown; usage: TokenUsage | null; headers: Record<string, string> }
  | { kind: "sse"; status: 200; events: SseEvent[]; usage: TokenUsage; headers: Record<string, string> };

interface HandlerInput {
  body: JsonObject;
  headers: Record<string, string | undefined>;
  ids: IdSource;
}

interface Route {
  method: "GET" | "POST";
  path: string;
  /** Undefined when the path is shared by both providers and the headers decide. */
  provider?: Provider;
  handle: (input: HandlerInput) => Answer;
}

const ROUTES: Route[] = [
  { method: "POST", path: "/v1/chat/completions", provider: "openai", handle: handleChatCompletions },
  { method: "POST", path: "/v1/responses", provider: "openai", handle: handleResponses },
  { method: "POST", path: "/v1/embeddings", provider: "openai", handle: handleEmbeddings },
  { method: "POST", path: "/v1/messages", provider: "anthropic", handle: handleMessages },
  { method: "POST", path: "/v1/messages/count_tokens", provider: "anthropic", handle: handleCountTokens },
  { method: "GET", path: "/v1/models", handle: handleModels },
];

function findRoute(method: string, path: string): Route | undefined {
  const normalized = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return ROUTES.find((r) => r.method === method && r.path === normalized);
}

/** Anthropic SDKs always send `anthropic-version`; OpenAI ones never do. */
function guessProvider(headers: Record<string, string | undefined>): Provider {
  return headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined ? "anthropic" : "openai";
}

interface DispatchInput {
  method: string;
  path: string;
  route: Route | undefined;
  provider: Provider;
  headers: Record<string, string | undefined>;
  rawBody: string;
  body: unknown;
  ids: IdSource;
  pendingFailures: number[];
}

/** Decides the whole answer up front; precedence mirrors a real gateway: injected faults, auth, routing, body checks. */
function answerFor(input: DispatchInput): Answer {
  const { provider, ids } = input;
  const injected = input.pendingFailures.shift();
  if (injected !== undefined) return errorAnswer(provider, injected, ids);
  if (!hasApiKey(provider, input.headers)) return errorAnswer(provider, 401, ids, missingKeyMessage(provider));
  if (!input.route) {
    const message =
      provider === "openai"
        ? `Invalid URL (${input.method} ${input.path})`
        : `Not found: ${input.method} ${input.path}`;
    return errorAnswer(provider, 404, ids, message);
  }
  if (input.route.method === "POST" && !isObject(input.body)) {
    const message =
      input.rawBody.trim() === "" ? "Request body is empty; expected JSON." : "Request body is not valid JSON.";
    return errorAnswer(provider, 400, ids, message);
  }
  const body = isObject(input.body) ? input.body : {};
  return input.route.handle({ body, headers: input.headers, ids });
}

function hasApiKey(provider: Provider, headers: Record<string, string | undefined>): boolean {
  return keyFromHeaders(provider, headers) !== undefined;
}

/**
 * The API key a request carried. OpenAI uses `Authorization: Bearer`. Anthropic
 * historically used `x-api-key`, but newer Python SDKs (anthropic 2.x) send the
 * same key as `Authorization: Bearer`, so both count.
 */
function keyFromHeaders(provider: Provider, headers: Record<string, string | undefined>): string | undefined {
  const bearer = /^Bearer\s+(\S+)/i.exec(headers.authorization ?? "")?.[1];
  const xApiKey = headers["x-api-key"]?.trim() || undefined;
  return provider === "openai" ? bearer : (xApiKey ?? bearer);
}

/** The API key a recorded call presented, from whichever header its provider accepts. */
export function apiKeyOf(call: RecordedCall): string | undefined {
  return keyFromHeaders(call.provider, call.headers);
}

function missingKeyMessage(provider: Provider): string {
  return provider === "openai"
    ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
    : "x-api-key header is required";
}

// ---------------------------------------------------------------------------
// Errors in each provider's own shape
// ---------------------------------------------------------------------------

function errorAnswer(provider: Provider, status: number, ids: IdSource, message?: string): Answer {
  const requestId = ids.next("req_");
  const headers: Record<string, string> =
    provider === "openai" ? { "x-request-id": requestId } : { "request-id": requestId };
  // Both SDKs read retry-after; 0 keeps retries fast while still exercising the header.
  if (status === 429) headers["retry-after"] = "0";
  const body =
    provider === "openai" ? openaiErrorBody(status, message) : anthropicErrorBody(status, requestId, message);
  return { kind: "json", status, body, usage: null, headers };
}

function openaiErrorBody(status: number, message?: string): unknown {
  const [type, code, defaultMessage] = openaiErrorKind(status);
  return { error: { message: message ?? defaultMessage, type, param: null, code } };
}

/** [type, code, message] as OpenAI sends them for the common statuses. */
function openaiErrorKind(status: number): [string, string | null, string] {
  switch (status) {
    case 400:
      return ["invalid_request_error", null, "Invalid request (LLM stand-in)."];
    case 401:
      return ["invalid_request_error", "invalid_api_key", "Incorrect API key provided (LLM stand-in)."];
    case 403:
      return ["invalid_request_error", "unsupported_country_region_territory", "Forbidden (LLM stand-in)."];
    case 404:
      return ["invalid_request_error", "model_not_found", "The model does not exist (LLM stand-in)."];
    case 429:
      return ["requests", "rate_limit_exceeded", "Rate limit reached for requests (LLM stand-in)."];
    default:
      return status >= 500
        ? ["server_error", null, "The server had an error while processing your request. Sorry about that!"]
        : ["invalid_request_error", null, `Request failed with status ${status} (LLM stand-in).`];
  }
}

function anthropicErrorBody(status: number, requestId: string, message?: string): unknown {
  const [type, defaultMessage] = anthropicErrorKind(status);
  return { type: "error", error: { type, message: message ?? defaultMessage }, request_id: requestId };
}

function anthropicErrorKind(status: number): [string, string] {
  switch (status) {
    case 400:
      return ["invalid_request_error", "Invalid request (LLM stand-in)."];
    case 401:
      return ["authentication_error", "invalid x-api-key"];
    case 403:
      return ["permission_error", "Your API key does not have permission to use the specified resource."];
    case 404:
      return ["not_found_error", "Not found (LLM stand-in)."];
    case 413:
      return ["request_too_large", "Request exceeds the maximum allowed number of bytes."];
    case 429:
      return ["rate_limit_error", "Number of requests has exceeded your rate limit (LLM stand-in)."];
    case 529:
      return ["overloaded_error", "Overloaded"];
    default:
      return status >= 500
        ? ["api_error", "Internal server error"]
        : ["invalid_request_error", `Request failed with status ${status}.`];
  }
}

// ---------------------------------------------------------------------------
// The provider-neutral "model": conversation in, reply + usage out
// ---------------------------------------------------------------------------

interface Conversation {
  /** Every piece of text content, for the input-token count. */
  texts: string[];
  messageCount: number;
  /** Text of the last plain user message (not a tool result). */
  lastUserText: string;
  /** Whether the final message is a plain user message. */
  lastIsUser: boolean;
  /** Tool result text when the final message is a tool result, else null. */
  toolResult: string | null;
  offersMultiply: boolean;
}

interface MultiplyCall {
  name: "multiply";
  args: { a: number; b: number };
}

type Reply = { kind: "text"; text: string } | { kind: "tool_call"; call: MultiplyCall };

function decideReply(conv: Conversation): Reply {
  if (conv.toolResult !== null) return { kind: "text", text: `The answer is ${conv.toolResult}.` };
  const integers = conv.lastIsUser ? (conv.lastUserText.match(/-?\d+/g) ?? []) : [];
  const [a, b] = integers;
  if (conv.offersMultiply && a !== undefined && b !== undefined) {
    return { kind: "tool_call", call: { name: "multiply", args: { a: Number(a), b: Number(b) } } };
  }
  return { kind: "text", text: `Hello from the stand-in! You said: ${conv.lastUserText}` };
}

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_TOOL_CALL = 5;

function countUsage(conv: Conversation, reply: Reply): TokenUsage {
  const characters = conv.texts.reduce((sum, text) => sum + charCount(text), 0);
  const input_tokens = Math.ceil(characters / 4) + TOKENS_PER_MESSAGE * conv.messageCount;
  const output_tokens = reply.kind === "text" ? wordCount(reply.text) : TOKENS_PER_TOOL_CALL;
  return { input_tokens, output_tokens, total_tokens: input_tokens + output_tokens };
}

/** Code points, not UTF-16 units, so Python's len() agrees with us. */
function charCount(text: string): number {
  return [...text].length;
}

function wordCount(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}

/** Word-sized pieces that keep their trailing whitespace, so joining them rebuilds the text exactly. */
function wordChunks(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/** A few pieces of a JSON argument string, like models emit (`{"a":6,` then `"b":7}`). */
function jsonChunks(json: string): string[] {
  return json.match(/[^,]+,?|,/g) ?? [json];
}

/** Text pieces of a message content in any shape the providers use (string, text/input_text/output_text parts, tool_result blocks). */
function textParts(content: unknown): string[] {
  if (typeof content === "string") return [content];
  const parts: string[] = [];
  for (const block of asArray(content)) {
    if (!isObject(block)) continue;
    const text = asString(block.text);
    if (text !== undefined) parts.push(text);
    else if (block.type === "tool_result") parts.push(...textParts(block.content));
  }
  return parts;
}

function offersMultiply(tools: unknown, toolChoice: unknown): boolean {
  const choiceNone = toolChoice === "none" || (isObject(toolChoice) && toolChoice.type === "none");
  if (choiceNone) return false;
  // OpenAI chat nests the name under `function`; Anthropic and the Responses API put it at the top.
  return asArray(tools).some(
    (t) => isObject(t) && (t.name === "multiply" || (isObject(t.function) && t.function.name === "multiply")),
  );
}

function lastUserTextOf(
  messages: JsonObject[],
  isPlainUser: (m: JsonObject) => boolean,
  textOf: (m: JsonObject) => string,
): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m && isPlainUser(m)) return textOf(m);
  }
  return "";
}

// --- request → Conversation, per wire format ---

function chatConversation(body: JsonObject): Conversation {
  const messages = asArray(body.messages).filter(isObject);
  const last = messages.at(-1);
  const isUser = (m: JsonObject) => m.role === "user";
  const textOf = (m: JsonObject) => textParts(m.content).join("\n");
  return {
    texts: messages.flatMap((m) => textParts(m.content)),
    messageCount: messages.length,
    lastUserText: lastUserTextOf(messages, isUser, textOf),
    lastIsUser: last !== undefined && isUser(last),
    toolResult: last?.role === "tool" ? textOf(last) : null,
    offersMultiply: offersMultiply(body.tools, body.tool_choice),
  };
}

function anthropicConversation(body: JsonObject): Conversation {
  const messages = asArray(body.messages).filter(isObject);
  const system = textParts(body.system);
  const last = messages.at(-1);
  // Anthropic carries tool results inside a user message, so "user" alone is not a plain user turn.
  const toolResults = (m: JsonObject) => asArray(m.content).filter((b) => isObject(b) && b.type === "tool_result");
  const isPlainUser = (m: JsonObject) => m.role === "user" && toolResults(m).length === 0;
  const plainText = (m: JsonObject) =>
    typeof m.content === "string"
      ? m.content
      : asArray(m.content)
          .flatMap((b) => (isObject(b) && b.type === "text" ? textParts([b]) : []))
          .join("\n");
  const lastResults = last?.role === "user" ? toolResults(last) : [];
  return {
    texts: [...system, ...messages.flatMap((m) => textParts(m.content))],
    messageCount: messages.length + (system.length > 0 ? 1 : 0),
    lastUserText: lastUserTextOf(messages, isPlainUser, plainText),
    lastIsUser: last !== undefined && isPlainUser(last),
    toolResult:
      lastResults.length > 0
        ? lastResults.map((b) => textParts(isObject(b) ? b.content : "").join("")).join(", ")
        : null,
    offersMultiply: offersMultiply(body.tools, body.tool_choice),
  };
}

function responsesConversation(body: JsonObject): Conversation {
  const instructions = asString(body.instructions) ?? "";
  const items: JsonObject[] =
    typeof body.input === "string" ? [{ role: "user", content: body.input }] : asArray(body.input).filter(isObject);
  const last = items.at(-1);
  const isToolOutput = (item: JsonObject) => item.type === "function_call_output";
  const isUser = (item: JsonObject) => item.role === "user";
  const textOf = (item: JsonObject) => textParts(isToolOutput(item) ? item.output : item.content).join("\n");
  return {
    texts: [
      ...(instructions ? [instructions] : []),
      ...items.flatMap((item) => textParts(isToolOutput(item) ? item.output : item.content)),
    ],
    messageCount: items.length + (instructions ? 1 : 0),
    lastUserText: lastUserTextOf(items, isUser, textOf),
    lastIsUser: last !== undefined && isUser(last),
    toolResult: last !== undefined && isToolOutput(last) ? textOf(last) : null,
    offersMultiply: offersMultiply(body.tools, body.tool_choice),
  };
}

// ---------------------------------------------------------------------------
// OpenAI: Chat Completions
// ---------------------------------------------------------------------------

const FINGERPRINT = "fp_llm_standin";

function handleChatCompletions({ body, ids }: HandlerInput): Answer {
  const model = asString(body.model);
  if (!model) return errorAnswer("openai", 400, ids, "you must provide a model parameter");
  if (asArray(body.messages).length === 0)
    return errorAnswer("openai", 400, ids, "'messages' must contain at least one message.");

  const conv = chatConversation(body);
  const reply = decideReply(conv);
  const usage = countUsage(conv, reply);
  const headers = { "x-request-id": ids.next("req_") };
  const id = ids.next("chatcmpl-");
  const toolCallId = reply.kind === "tool_call" ? ids.next("call_") : "";

  if (body.stream === true) {
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    const events = chatCompletionChunks({ id, model, reply, toolCallId, usage, includeUsage });
    return { kind: "sse", status: 200, events, usage, headers };
  }
  const message =
    reply.kind === "text"
      ? { role: "assistant", content: reply.text, refusal: null, annotations: [] }
      : {
          role: "assistant",
          content: null,
          refusal: null,
          annotations: [],
          tool_calls: [openaiToolCall(toolCallId, reply.call)],
        };
  const completion = {
    id,
    object: "chat.completion",
    created: nowSeconds(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
    usage: openaiChatUsage(usage),
    service_tier: "default",
    system_fingerprint: FINGERPRINT,
  };
  return { kind: "json", status: 200, body: completion, usage, headers };
}

function finishReason(reply: Reply): string {
  return reply.kind === "text" ? "stop" : "tool_calls";
}

function openaiToolCall(id: string, call: MultiplyCall): unknown {
  return { id, type: "function", function: { name: call.name, arguments: JSON.stringify(call.args) } };
}

function openaiChatUsage(usage: TokenUsage): unknown {
  return {
    prompt_tokens: usage.input_tokens,
    completion_tokens: usage.output_tokens,
    total_tokens: usage.total_tokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

interface ChunkPlan {
  id: string;
  model: string;
  reply: Reply;
  toolCallId: string;
  usage: TokenUsage;
  includeUsage: boolean;
}

/**
 * The chunk sequence OpenAI sends: a role-only delta, content (or tool-call) deltas,
 * an empty delta carrying finish_reason, then, only when
 * `stream_options.include_usage` is set, one chunk with `choices: []` and the
 * usage (every earlier chunk then has `usage: null`), then `[DONE]`.
 */
function chatCompletionChunks(plan: ChunkPlan): SseEvent[] {
  const { reply } = plan;
  const base = {
    id: plan.id,
    object: "chat.completion.chunk",
    created: nowSeconds(),
    model: plan.model,
    service_tier: "default",
    system_fingerprint: FINGERPRINT,
  };
  const chunk = (delta: unknown, finish_reason: string | null = null): SseEvent => ({
    data: {
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason }],
      ...(plan.includeUsage ? { usage: null } : {}),
    },
  });

  const deltas: unknown[] =
    reply.kind === "text"
      ? [{ role: "assistant", content: "", refusal: null }, ...wordChunks(reply.text).map((content) => ({ content }))]
      : [
          {
            role: "assistant",
            content: null,
            refusal: null,
            tool_calls: [
              { index: 0, id: plan.toolCallId, type: "function", function: { name: reply.call.name, arguments: "" } },
            ],
          },
          ...jsonChunks(JSON.stringify(reply.call.args)).map((args) => ({
            tool_calls: [{ index: 0, function: { arguments: args } }],
          })),
        ];

  const events = [...deltas.map((d) => chunk(d)), chunk({}, finishReason(reply))];
  if (plan.includeUsage) events.push({ data: { ...base, choices: [], usage: openaiChatUsage(plan.usage) } });
  events.push({ data: "[DONE]" });
  return events;
}

// ---------------------------------------------------------------------------
// OpenAI: Responses API
// ---------------------------------------------------------------------------

function handleResponses({ body, ids }: HandlerInput): Answer {
  const model = asString(body.model);
  if (!model) return errorAnswer("openai", 400, ids, "Missing required parameter: 'model'.");
  if (body.input === undefined) return errorAnswer("openai", 400, ids, "Missing required parameter: 'input'.");

  const conv = responsesConversation(body);
  const reply = decideReply(conv);
  const usage = countUsage(conv, reply);
  const headers = { "x-request-id": ids.next("req_") };
  const item =
    reply.kind === "text"
      ? {
          type: "message",
          id: ids.next("msg_"),
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", text: reply.text, annotations: [], logprobs: [] }],
        }
      : {
          type: "function_call",
          id: ids.next("fc_"),
          call_id: ids.next("call_"),
          name: reply.call.name,
          arguments: JSON.stringify(reply.call.args),
          status: "completed",
        };
  const response = responseObject(ids.next("resp_"), model, body, [item], usage);

  if (body.stream === true)
    return { kind: "sse", status: 200, events: responseEvents(response, item, reply), usage, headers };
  return { kind: "json", status: 200, body: response, usage, headers };
}

function responseObject(
  id: string,
  model: string,
  body: JsonObject,
  output: JsonObject[],
  usage: TokenUsage | null,
): JsonObject {
  return {
    id,
    object: "response",
    created_at: nowSeconds(),
    status: usage ? "completed" : "in_progress",
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_p: 1,
    truncation: "disabled",
    usage: usage
      ? {
          input_tokens: usage.input_tokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: usage.output_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: usage.total_tokens,
        }
      : null,
    user: null,
    metadata: {},
  };
}

/** The Responses API event sequence for a single output item (message or function call). */
function responseEvents(response: JsonObject, item: JsonObject, reply: Reply): SseEvent[] {
  const events: SseEvent[] = [];
  const emit = (type: string, fields: JsonObject) =>
    events.push({ event: type, data: { type, sequence_number: events.length, ...fields } });
  const inProgress = { ...response, status: "in_progress", output: [], usage: null };
  const itemRef = { item_id: item.id, output_index: 0 };

  emit("response.created", { response: inProgress });
  emit("response.in_progress", { response: inProgress });
  if (reply.kind === "text") {
    const emptyPart = { type: "output_text", text: "", annotations: [], logprobs: [] };
    const fullPart = { ...emptyPart, text: reply.text };
    emit("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", content: [] } });
    emit("response.content_part.added", { ...itemRef, content_index: 0, part: emptyPart });
    for (const delta of wordChunks(reply.text))
      emit("response.output_text.delta", { ...itemRef, content_index: 0, delta, logprobs: [] });
    emit("response.output_text.done", { ...itemRef, content_index: 0, text: reply.text, logprobs: [] });
    emit("response.content_part.done", { ...itemRef, content_index: 0, part: fullPart });
  } else {
    const args = JSON.stringify(reply.call.args);
    emit("response.output_item.added", { output_index: 0, item: { ...item, status: "in_progress", arguments: "" } });
    for (const delta of jsonChunks(args)) emit("response.function_call_arguments.delta", { ...itemRef, delta });
    emit("response.function_call_arguments.done", { ...itemRef, name: reply.call.name, arguments: args });
  }
  emit("response.output_item.done", { output_index: 0, item });
  emit("response.completed", { response });
  return events;
}

// ---------------------------------------------------------------------------
// OpenAI: embeddings and model list
// ---------------------------------------------------------------------------

const DEFAULT_EMBEDDING_DIMENSIONS = 1536;

function handleEmbeddings({ body, ids }: HandlerInput): Answer {
  const model = asString(body.model);
  if (!model) return errorAnswer("openai", 400, ids, "you must provide a model parameter");
  const inputs = embeddingInputs(body.input);
  if (!inputs)
    return errorAnswer(
      "openai",
      400,
      ids,
      "'input' must be a string, an array of strings, or an array of token arrays.",
    );
  const dimensions =
    typeof body.dimensions === "number" && body.dimensions > 0
      ? Math.floor(body.dimensions)
      : DEFAULT_EMBEDDING_DIMENSIONS;
  // The Python SDK asks for base64 by default (packed little-endian float32) and decodes it itself.
  const base64 = body.encoding_format === "base64";

  const data = inputs.map((input, index) => {
    const vector = embeddingVector(input.key, dimensions);
    return { object: "embedding", index, embedding: base64 ? float32Base64(vector) : vector };
  });
  const promptTokens = inputs.reduce((sum, input) => sum + input.tokens, 0);
  const usage = { input_tokens: promptTokens, output_tokens: 0, total_tokens: promptTokens };
  const response = { object: "list", data, model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } };
  return { kind: "json", status: 200, body: response, usage, headers: { "x-request-id": ids.next("req_") } };
}

interface EmbeddingInput {
  /** What the vector is derived from. */
  key: string;
  tokens: number;
}

/** Accepts every input shape OpenAI does: string, string[], token array, token array[]. */
function embeddingInputs(input: unknown): EmbeddingInput[] | null {
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === "number");
  const fromText = (text: string): EmbeddingInput => ({ key: text, tokens: Math.ceil(charCount(text) / 4) });
  const fromTokens = (tokens: number[]): EmbeddingInput => ({
    key: `tokens:${tokens.join(",")}`,
    tokens: tokens.length,
  });

  if (typeof input === "string") return [fromText(input)];
  if (isTokens(input)) return [fromTokens(input)];
  if (!Array.isArray(input) || input.length === 0) return null;
  const out: EmbeddingInput[] = [];
  for (const item of input) {
    if (typeof item === "string") out.push(fromText(item));
    else if (isTokens(item)) out.push(fromTokens(item));
    else return null;
  }
  return out;
}

/** A unit vector derived from sha256 of the input: same text, same vector, across runs and machines. */
function embeddingVector(key: string, dimensions: number): number[] {
  const values: number[] = [];
  for (let block = 0; values.length < dimensions; block++) {
    const digest = createHash("sha256").update(`${block}:${key}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dimensions; i += 2)
      values.push(digest.readUInt16LE(i) / 32767.5 - 1);
  }
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0)) || 1;
  return values.map((v) => v / norm);
}

function float32Base64(vector: number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString("base64");
}

const OPENAI_MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "text-embedding-3-small"];
const ANTHROPIC_MODELS: Array<[id: string, displayName: string]> = [
  ["claude-sonnet-4-5", "Claude Sonnet 4.5"],
  ["claude-haiku-4-5", "Claude Haiku 4.5"],
  ["claude-opus-4-1", "Claude Opus 4.1"],
];

function handleModels({ headers, ids }: HandlerInput): Answer {
  if (guessProvider(headers) === "anthropic") {
    const data = ANTHROPIC_MODELS.map(([id, display_name]) => ({
      type: "model",
      id,
      display_name,
      created_at: "2025-01-01T00:00:00Z",
    }));
    const body = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
    return { kind: "json", status: 200, body, usage: null, headers: { "request-id": ids.next("req_") } };
  }
  const data = OPENAI_MODELS.map((id) => ({ id, object: "model", created: 1_700_000_000, owned_by: "system" }));
  return {
    kind: "json",
    status: 200,
    body: { object: "list", data },
    usage: null,
    headers: { "x-request-id": ids.next("req_") },
  };
}

// ---------------------------------------------------------------------------
// Anthropic: Messages
// ---------------------------------------------------------------------------

/** Anthropic rejects these before doing any work; returning the same 400s keeps client error paths honest. */
function anthropicRequestProblem(body: JsonObject, needsMaxTokens: boolean): string | null {
  if (!asString(body.model)) return "model: Field required";
  if (!Array.isArray(body.messages)) return "messages: Field required";
  if (body.messages.length === 0) return "messages: at least one message is required";
  if (needsMaxTokens && typeof body.max_tokens !== "number") return "max_tokens: Field required";
  return null;
}

function handleMessages({ body, ids }: HandlerInput): Answer {
  const problem = anthropicRequestProblem(body, true);
  if (problem) return errorAnswer("anthropic", 400, ids, problem);
  const model = asString(body.model) ?? "";
  const conv = anthropicConversation(body);
  const reply = decideReply(conv);
  const usage = countUsage(conv, reply);
  const headers = { "request-id": ids.next("req_") };
  const id = ids.next("msg_");
  const toolUseId = reply.kind === "tool_call" ? ids.next("toolu_") : "";

  if (body.stream === true)
    return { kind: "sse", status: 200, events: messageEvents(id, model, reply, toolUseId, usage), usage, headers };
  const content =
    reply.kind === "text"
      ? [{ type: "text", text: reply.text }]
      : [{ type: "tool_use", id: toolUseId, name: reply.call.name, input: reply.call.args }];
  const message = {
    id,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: anthropicUsage(usage.input_tokens, usage.output_tokens),
  };
  return { kind: "json", status: 200, body: message, usage, headers };
}

function stopReason(reply: Reply): string {
  return reply.kind === "text" ? "end_turn" : "tool_use";
}

function anthropicUsage(input_tokens: number, output_tokens: number): JsonObject {
  return {
    input_tokens,
    output_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    service_tier: "standard",
  };
}

/**
 * Anthropic's stream: message_start, content_block_start, ping, deltas,
 * content_block_stop, message_delta, message_stop. message_delta's usage is
 * cumulative and carries input_tokens too; LangChain builds usage_metadata from
 * message_delta alone, so leaving input_tokens out there would report 0 input.
 */
function messageEvents(id: string, model: string, reply: Reply, toolUseId: string, usage: TokenUsage): SseEvent[] {
  const event = (type: string, fields: JsonObject = {}): SseEvent => ({ event: type, data: { type, ...fields } });
  // Like the real API, message_start reports a provisional output count of 1.
  const message = {
    id,
    type: "message",
    role: "assistant",
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: anthropicUsage(usage.input_tokens, 1),
  };

  const block =
    reply.kind === "text"
      ? [
          event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
          event("ping"),
          ...wordChunks(reply.text).map((text) =>
            event("content_block_delta", { index: 0, delta: { type: "text_delta", text } }),
          ),
        ]
      : [
          event("content_block_start", {
            index: 0,
            content_block: { type: "tool_use", id: toolUseId, name: reply.call.name, input: {} },
          }),
          event("ping"),
          ...jsonChunks(JSON.stringify(reply.call.args)).map((partial_json) =>
            event("content_block_delta", { index: 0, delta: { type: "input_json_delta", partial_json } }),
          ),
        ];

  const finalUsage = {
    input_tokens: usage.input_tokens,
    output_tokens: usage.output_tokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
  return [
    event("message_start", { message }),
    ...block,
    event("content_block_stop", { index: 0 }),
    event("message_delta", { delta: { stop_reason: stopReason(reply), stop_sequence: null }, usage: finalUsage }),
    event("message_stop"),
  ];
}

function handleCountTokens({ body, ids }: HandlerInput): Answer {
  const problem = anthropicRequestProblem(body, false);
  if (problem) return errorAnswer("anthropic", 400, ids, problem);
  const conv = anthropicConversation(body);
  const { input_tokens } = countUsage(conv, decideReply(conv));
  // Counting is free on the real API, so it reports no usage and adds nothing to totalTokens().
  return {
    kind: "json",
    status: 200,
    body: { input_tokens },
    usage: null,
    headers: { "request-id": ids.next("req_") },
  };
}

// ---------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------

async function writeAnswer(res: ServerResponse, answer: Answer, chunkDelayMs: number): Promise<void> {
  if (answer.kind === "json") {
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(JSON.stringify(answer.body));
    return;
  }
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    ...answer.headers,
  });
  for (const [i, event] of answer.events.entries()) {
    if (i > 0) await sleep(chunkDelayMs);
    if (res.destroyed) return; // client hung up mid-stream
    res.write(formatSse(event));
  }
  res.end();
}

function formatSse({ event, data }: SseEvent): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return `${event ? `event: ${event}\n` : ""}data: ${payload}\n\n`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function parseJson(raw: string): unknown {
  if (raw.trim() === "") return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

function lowerCaseHeaders(headers: IncomingHttpHeaders): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Per-prefix counters so ids read call_1, call_2, msg_1, ... and are stable across runs. */
class IdSource {
  private counters = new Map<string, number>();

  next(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  reset(): void {
    this.counters.clear();
  }
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function asString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
