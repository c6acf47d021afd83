/**
 * An upstream that cannot be reached and one that does not start answering are told apart: 502
 * with the socket's reason, 504 after GRAPHBOX_UPSTREAM_TIMEOUT_MS. Either way the call's
 * reservation is given back and the observers hear of a call that got no answer (status 0).
 * A real gateway on real sockets, with a real account as an execution gets one.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { Gateway } from "../src/gateway/gateway.ts";
import type { LlmCallInfo } from "../src/observability/observer.ts";
import { errorMessage, rawRequest } from "./support/gateway-client.ts";

const UPSTREAM_TIMEOUT_MS = 300;

let silent: Server;
const held: Socket[] = [];
let closedPort: number;

before(async () => {
  // Takes the request and never answers it.
  silent = createServer(() => undefined);
  silent.on("connection", (socket: Socket) => held.push(socket));
  silent.listen(0, "127.0.0.1");
  await once(silent, "listening");
  // A port that was just free: nothing listens there.
  const probe = createServer().listen(0, "127.0.0.1");
  await once(probe, "listening");
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  held.forEach((socket) => socket.destroy());
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** A gateway whose OpenAI is at `baseUrl`, the calls it reported, and an account to call with. */
async function gatewayTo(baseUrl: string) {
  const config = loadConfig({ OPENAI_BASE_URL: baseUrl, OPENAI_API_KEY: "sk-upstream-test" });
  const calls: LlmCallInfo[] = [];
  const gateway = new Gateway(config, {
    modelAllowlist: [],
    upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS,
    onCall: (call) => calls.push(call),
  });
  await gateway.listen();
  const account = gateway.open(`upstream-${crypto.randomUUID()}`, { budget: 100_000 });
  const call = () =>
    rawRequest(gateway.url, "POST", "/openai/v1/chat/completions", {
      headers: { authorization: `Bearer ${account.credential}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "hello" }] }),
    });
  return { gateway, account, calls, call };
}

test("an upstream nobody listens on is a 502 that names the reason, not a timeout", async () => {
  const { gateway, account, calls, call } = await gatewayTo(`http://127.0.0.1:${closedPort}/v1`);
  try {
    const started = performance.now();
    const answer = await call();
    assert.equal(answer.status, 502, answer.text);
    assert.match(errorMessage(answer), /^graphbox gateway: upstream openai unreachable \(.*ECONNREFUSED.*\)$/);
    assert.ok(
      performance.now() - started < UPSTREAM_TIMEOUT_MS,
      "a refused connection is answered at once, not after the timeout",
    );
    assert.equal(account.reserved, 0, "the call's reservation was given back");
    assert.deepEqual(
      calls.map((c) => [c.status, c.inputTokens, c.outputTokens]),
      [[0, 0, 0]],
    );
  } finally {
    await gateway.close();
  }
});

test("an upstream that does not start answering in time is a 504", async () => {
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`;
  const { gateway, account, calls, call } = await gatewayTo(url);
  try {
    const started = performance.now();
    const answer = await call();
    const ms = performance.now() - started;
    assert.equal(answer.status, 504, answer.text);
    assert.equal(errorMessage(answer), "graphbox gateway: upstream openai did not answer in time");
    assert.ok(
      ms >= UPSTREAM_TIMEOUT_MS - 10 && ms < UPSTREAM_TIMEOUT_MS + 5_000,
      `answered after ${Math.round(ms)} ms`,
    );
    assert.equal(account.reserved, 0, "the call's reservation was given back");
    assert.deepEqual(
      calls.map((c) => c.status),
      [0],
    );
  } finally {
    await gateway.close();
  }
});
