/**
 * What one execution may hold of the gateway, and so of the engine: body size, bytes buffered,
 * connections, calls in flight, time to send headers and body. Through raw sockets to a real
 * engine's gateway with an execution account's credential; the engine must keep serving.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, test } from "node:test";

import { OPTIONS, type GatewayLimits } from "../src/config/index.ts";
import type { ExecutionAccount } from "../src/gateway/accounts.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { errorMessage, heldConnection, rawRequest } from "./support/gateway-client.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { pythonGraph } from "./support/programs.ts";

const MiB = 1024 * 1024;
/** The defaults, but short timeouts (so the test does not wait 30 s) and a total that two executions can fill. */
const LIMITS: GatewayLimits = {
  maxBodyBytes: OPTIONS.gatewayLimits.maxBodyBytes.default,
  executionBufferBytes: OPTIONS.gatewayLimits.executionBufferBytes.default,
  bufferBytes: 48 * MiB,
  executionConnections: OPTIONS.gatewayLimits.executionConnections.default,
  executionCalls: OPTIONS.gatewayLimits.executionCalls.default,
  maxConnections: OPTIONS.gatewayLimits.maxConnections.default,
  headersTimeoutMs: 1_000,
  bodyTimeoutMs: 2_000,
  outputReserveTokens: OPTIONS.gatewayLimits.outputReserveTokens.default,
};

let llm: LlmStandIn;
let engine: RunningEngine;

before(async () => {
  // Streamed answers trickle, so a program can hang up between the text and the usage.
  llm = await startLlmStandIn({ chunkDelayMs: 40 });
  engine = await startEngine(undefined, {
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: `sk-limits-openai-${crypto.randomUUID()}` },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: `sk-ant-limits-${crypto.randomUUID()}` },
    gatewayLimits: LIMITS,
  });
});
after(async () => {
  await engine.close();
  await llm.close();
});
beforeEach(() => llm.reset());

const gateway = () => engine.app.engine.gateway;
const opened: ExecutionAccount[] = [];
after(() => opened.forEach((a) => gateway().release(a)));
function account(budget: number | null = 1_000_000): ExecutionAccount {
  const created = gateway().open(`limits-${crypto.randomUUID()}`, { budget });
  opened.push(created);
  return created;
}
const chat = (text: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: text }], ...extra });
const head = (a: ExecutionAccount, length: number | "chunked", path = "/openai/v1/chat/completions"): string =>
  `POST ${path} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${a.credential}\r\nContent-Type: application/json\r\n${length === "chunked" ? "Transfer-Encoding: chunked" : `Content-Length: ${length}`}\r\n\r\n`;

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A normal call still works for this credential: the gateway kept serving. */
async function stillServed(a: ExecutionAccount): Promise<void> {
  const answer = await rawRequest(gateway().url, "POST", "/openai/v1/chat/completions", {
    headers: { authorization: `Bearer ${a.credential}`, "content-type": "application/json" },
    body: chat("still there?"),
  });
  assert.equal(answer.status, 200, answer.text);
}

test("a body larger than GRAPHBOX_GATEWAY_MAX_BODY_BYTES is refused with 413 before it is read", async () => {
  const caller = account();
  const big = heldConnection(gateway().url, head(caller, LIMITS.maxBodyBytes + 1));
  const answer = await big.answer;
  assert.equal(answer.status, 413);
  assert.match(answer.text, /request body larger than 8388608 bytes \(GRAPHBOX_GATEWAY_MAX_BODY_BYTES\)/);
  big.socket.destroy();
  // Chunked, no length announced: cut off once it passes the limit.
  const chunked = await rawRequest(gateway().url, "POST", "/openai/v1/embeddings", {
    headers: {
      authorization: `Bearer ${caller.credential}`,
      "content-type": "application/json",
      "transfer-encoding": "chunked",
    },
    body: Buffer.alloc(LIMITS.maxBodyBytes + MiB, 0x20),
  });
  assert.equal(chunked.status, 413);
  assert.equal(llm.calls.length, 0);
  await stillServed(caller);
});

test("headers and bodies that arrive too slowly get 408 and lose their connection; what they held is given back", async () => {
  const caller = account();
  const started = performance.now();
  const slowHeaders = heldConnection(gateway().url, `POST /openai/v1/chat/completions HTTP/1.1\r\nHost: gateway\r\n`);
  const slowBody = heldConnection(gateway().url, head(caller, 1000));
  slowBody.socket.write("{");
  const trickle = setInterval(() => slowBody.socket.write(" "), 200);
  try {
    await until("the body to be held", () => caller.callsInFlight === 1);
    assert.equal(caller.buffered.held, 1000, "the announced length is held from the start");
    const [headers, body] = await Promise.all([slowHeaders.closed.then(() => slowHeaders.answer), slowBody.answer]);
    const headersMs = performance.now() - started;
    assert.equal(headers.status, 408);
    assert.ok(headersMs < LIMITS.headersTimeoutMs + 3_000, `headers timeout after ${Math.round(headersMs)} ms`);
    assert.equal(body.status, 408);
    assert.match(body.text, /the request body did not arrive within 2000 ms/);
    await slowBody.closed;
    assert.ok(performance.now() - started < LIMITS.bodyTimeoutMs + 3_000);
  } finally {
    clearInterval(trickle);
  }
  await until("the hold to be given back", () => caller.buffered.held === 0 && caller.callsInFlight === 0);
  assert.equal(llm.calls.length, 0);
  await stillServed(caller);
});

test("calls in flight and connections per execution are capped with 429; the execution's next calls are served", async () => {
  const caller = account();
  // Calls: each holds a body it never finishes sending.
  const held = Array.from({ length: LIMITS.executionCalls }, () => heldConnection(gateway().url, head(caller, 100)));
  await until("every held call to be in flight", () => caller.callsInFlight === LIMITS.executionCalls);
  const over = await rawRequest(gateway().url, "POST", "/openai/v1/chat/completions", {
    headers: { authorization: `Bearer ${caller.credential}`, "content-type": "application/json" },
    body: chat("one more"),
  });
  assert.equal(over.status, 429);
  assert.equal(over.headers["retry-after"], "1");
  assert.match(errorMessage(over), /already has 16 calls in flight \(GRAPHBOX_GATEWAY_EXECUTION_CALLS\)/);
  for (const connection of held) connection.socket.destroy();
  await until("the calls to end", () => caller.callsInFlight === 0 && caller.buffered.held === 0);

  // Connections: idle keep-alive ones still count.
  const idle = Array.from({ length: LIMITS.executionConnections }, () =>
    heldConnection(
      gateway().url,
      `GET /openai/v1/models HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${caller.credential}\r\n\r\n`,
    ),
  );
  const answers = await Promise.all(idle.map((c) => c.answer));
  assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  assert.equal(caller.connections.size, LIMITS.executionConnections);
  const extra = heldConnection(
    gateway().url,
    `GET /openai/v1/models HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${caller.credential}\r\n\r\n`,
  );
  const refused = await extra.answer;
  assert.equal(refused.status, 429);
  assert.match(refused.text, /already holds 32 connections to the gateway \(GRAPHBOX_GATEWAY_EXECUTION_CONNECTIONS\)/);
  await extra.closed;
  for (const connection of idle) connection.socket.destroy();
  await until("the connections to close", () => caller.connections.size === 0);
  await stillServed(caller);
});

test("many huge, slow uploads from one credential hold at most GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES of the engine's memory", async () => {
  const caller = account();
  const neighbour = account();
  const rssBefore = process.memoryUsage().rss;
  const peakBefore = gateway().bufferedBytes.peak;
  assert.ok(peakBefore < LIMITS.executionBufferBytes, "no earlier test came near the bound");
  const chunk = Buffer.alloc(MiB, 0x20);
  // 40 uploads announcing the largest body allowed, each sending 7 MiB of it and then stalling...
  const announced = Array.from({ length: 40 }, () => heldConnection(gateway().url, head(caller, LIMITS.maxBodyBytes)));
  for (const connection of announced) for (let i = 0; i < 7; i++) connection.socket.write(chunk);
  // ...and 8 chunked uploads that never end.
  const chunked = Array.from({ length: 8 }, () => heldConnection(gateway().url, head(caller, "chunked")));
  const frame = Buffer.concat([Buffer.from("100000\r\n"), chunk, Buffer.from("\r\n")]);
  const pump = setInterval(() => {
    for (const connection of chunked)
      if (!connection.socket.destroyed && connection.socket.writableLength < 4 * MiB) connection.socket.write(frame);
  }, 20);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 25);
  try {
    const statuses = (await Promise.all([...announced, ...chunked].map((c) => c.answer))).map((a) => a.status);
    // Four 8 MiB bodies fill the 32 MiB; the rest are told to wait (or to use fewer connections), then the held
    // ones time out; a chunked upload that got room once others were given back is cut at 8 MiB.
    assert.ok(
      statuses.every((s) => s === 429 || s === 408 || s === 413),
      JSON.stringify(statuses),
    );
    assert.ok(statuses.filter((s) => s === 408).length >= 1, JSON.stringify(statuses));
    // Meanwhile another execution is served.
    await stillServed(neighbour);
  } finally {
    clearInterval(pump);
    clearInterval(sampler);
    for (const connection of [...announced, ...chunked]) connection.socket.destroy();
  }
  assert.ok(
    caller.buffered.peak <= LIMITS.executionBufferBytes,
    `the execution held ${caller.buffered.peak} bytes at most`,
  );
  assert.ok(
    caller.buffered.peak >= 3 * LIMITS.maxBodyBytes,
    `the bound was reached (${caller.buffered.peak}), so the test measured it`,
  );
  assert.ok(
    gateway().bufferedBytes.peak <= LIMITS.executionBufferBytes + MiB,
    `the gateway held ${gateway().bufferedBytes.peak} bytes at most`,
  );
  const grownMb = (rssPeak - rssBefore) / MiB;
  // 48 uploads of 7+ MiB each were sent: unbounded, that is over 330 MiB buffered. The bound is 32 MiB, plus the
  // transient copies and allocator slack of a process doing this (19-71 MiB measured); 128 MiB leaves a wide margin on both sides.
  assert.ok(grownMb < 128, `engine RSS grew by ${grownMb.toFixed(0)} MiB`);
  console.log(
    `# engine RSS grew by ${grownMb.toFixed(0)} MiB; gateway peak held ${(caller.buffered.peak / MiB).toFixed(1)} MiB`,
  );
  await until(
    "everything held to be given back",
    () => gateway().bufferedBytes.held === 0 && caller.callsInFlight === 0,
  );
  assert.equal(llm.calls.length, 1, "only the neighbour's call reached the provider");
  await stillServed(caller);
});

test("when every execution's buffers together reach GRAPHBOX_GATEWAY_BUFFER_BYTES, the next body gets 503", async () => {
  const first = account();
  const second = account();
  const fill = (a: ExecutionAccount, n: number) =>
    Array.from({ length: n }, () => heldConnection(gateway().url, head(a, LIMITS.maxBodyBytes)));
  const held = [...fill(first, 4), ...fill(second, 2)];
  await until("48 MiB to be held", () => gateway().bufferedBytes.held === 6 * LIMITS.maxBodyBytes);
  const over = heldConnection(gateway().url, head(second, 1000));
  const answer = await over.answer;
  assert.equal(answer.status, 503);
  assert.match(answer.text, /the gateway holds all the request bytes it may buffer for every execution/);
  for (const connection of [...held, over]) connection.socket.destroy();
  await until("everything to be given back", () => gateway().bufferedBytes.held === 0);
  await stillServed(second);
});

test("a program that hangs up on a stream before its usage arrives is charged the call's reservation", async () => {
  const caller = account();
  const controller = new AbortController();
  const response = await fetch(`${gateway().url}/openai/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${caller.credential}`, "content-type": "application/json" },
    body: chat("stream me something rather long, word after word after word", { stream: true, max_tokens: 50 }),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read();
  controller.abort();
  await until("the call to be charged", () => caller.calls === 1);
  assert.ok(caller.usage.totalTokens >= 50, `charged ${caller.usage.totalTokens}, at least the declared max_tokens`);
  assert.equal(caller.reserved, 0);
  assert.equal(caller.callsInFlight, 0);
});

test("an execution's end closes its connections to the gateway, held uploads included", async () => {
  const program = pythonGraph(`import os, socket, time
port = int(os.environ["OPENAI_BASE_URL"].split(":")[2].split("/")[0])
held = []
for i in range(12):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("POST /openai/v1/chat/completions HTTP/1.1\\r\\nHost: g\\r\\nAuthorization: Bearer " + os.environ["OPENAI_API_KEY"] + "\\r\\nContent-Length: 8388608\\r\\n\\r\\n").encode())
    try:
        s.settimeout(0.5)
        s.sendall(b" " * (6 * 1024 * 1024))
    except OSError:
        pass
    held.append(s)
return {"out": "held"}`);
  const before = process.memoryUsage().rss;
  const { body } = await engine.post("/execute-langgraph", {
    code: program,
    language: "python",
    inputs: {},
    config: { timeout_ms: 60_000 },
  });
  assert.equal(body["status"], "success", JSON.stringify(body));
  await until("the gateway to give back what the execution held", () => gateway().bufferedBytes.held === 0);
  const grownMb = (process.memoryUsage().rss - before) / MiB;
  assert.ok(grownMb < 128, `engine RSS grew by ${grownMb.toFixed(0)} MiB`);
  assert.equal(llm.calls.length, 0);
});
