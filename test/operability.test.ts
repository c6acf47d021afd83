/** Auth and ownership, admission control, log hygiene, and the API description. */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { ERRORS } from "../src/contract/errors.ts";
import { buildApp } from "../src/app.ts";
import { createLogger } from "../src/observability/logger.ts";
import { startEngine } from "./support/engine.ts";
import { PYTHON_OK, pythonGraph } from "./support/programs.ts";

const ALICE = `alice-key-${crypto.randomUUID()}`;
const BOB = `bob-key-${crypto.randomUUID()}`;
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

test("API keys: 401 without or with a wrong key; threads and executions are invisible to other keys", async () => {
  const engine = await startEngine(undefined, { apiKeys: { alice: ALICE, bob: BOB } });
  try {
    assert.equal((await fetch(`${engine.url}/health`)).status, 200);
    for (const headers of [{}, bearer("not-a-key-but-long-enough"), { authorization: ALICE }]) {
      const answer = await engine.post("/execute-langgraph", { code: PYTHON_OK, inputs: {} }, headers);
      assert.equal(answer.status, 401);
      assert.equal(answer.body["error_type"], "invalid_request");
      assert.equal(answer.body["code"], "GBX_ERR_UNAUTHENTICATED");
    }
    assert.equal((await fetch(`${engine.url}/ready`)).status, 401);

    const thread = `shared-name-${crypto.randomUUID()}`;
    const mine = await engine.post(
      "/execute-langgraph",
      { code: PYTHON_OK, inputs: {}, config: { thread_id: thread } },
      bearer(ALICE),
    );
    assert.equal(mine.body["status"], "success");
    const executionId = String((mine.body["result"] as { metadata: { execution_id: string } }).metadata.execution_id);

    const get = (path: string, key: string) => fetch(engine.url + path, { headers: bearer(key) });
    assert.equal((await get(`/executions/${executionId}`, ALICE)).status, 200);
    assert.equal((await get(`/threads/${thread}/state`, ALICE)).status, 200);
    for (const path of [
      `/executions/${executionId}`,
      `/threads/${thread}/state`,
      `/threads/${thread}/history`,
      `/executions/${executionId}/stream`,
    ]) {
      const answer = await get(path, BOB);
      assert.equal(answer.status, 404, path);
    }
    // Bob's thread of the same name is his own, and empty.
    const continued = await engine.post(
      "/execute-langgraph",
      { code: PYTHON_OK, inputs: null, config: { thread_id: thread } },
      bearer(BOB),
    );
    assert.equal(continued.status, 400);
    assert.match(String(continued.body["error"]), /no checkpoint to continue from/);
  } finally {
    await engine.close();
  }
});

test("a non-loopback bind without keys is refused unless explicitly allowed", () => {
  assert.throws(
    () => loadConfig({ GRAPHBOX_HOST: "0.0.0.0" }),
    /GRAPHBOX_HOST=0.0.0.0 is not a loopback address and no API keys are set/,
  );
  assert.equal(loadConfig({ GRAPHBOX_HOST: "0.0.0.0", GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC: "1" }).host, "0.0.0.0");
  assert.equal(loadConfig({ GRAPHBOX_HOST: "0.0.0.0", GRAPHBOX_API_KEYS: `ops=${ALICE}` }).apiKeys["ops"], ALICE);
  assert.throws(() => loadConfig({ GRAPHBOX_API_KEYS: "short" }), /shorter than 16 characters/);
});

const SLOW = pythonGraph(`import time\ntime.sleep(1.5)\nreturn {"out": "done"}`);

test("a burst over the engine's limits gets 503 with Retry-After, and every admitted execution succeeds", async () => {
  const engine = await startEngine(undefined, {
    maxConcurrent: 2,
    queueSize: 1,
    queueTimeoutMs: 30_000,
    keyMaxConcurrent: 100,
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 6 }, () =>
        fetch(`${engine.url}/execute-langgraph`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ code: SLOW, inputs: {} }),
        }),
      ),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 503, 503, 503]);
    for (const answer of answers) {
      const body = (await answer.json()) as Record<string, unknown>;
      if (answer.status === 200) assert.equal(body["status"], "success");
      else {
        assert.equal(body["code"], "GBX_ERR_OVERLOADED");
        assert.match(answer.headers.get("retry-after") ?? "", /^\d+$/);
      }
    }
  } finally {
    await engine.close();
  }
});

test("per-key concurrency and rate limits answer 429 with Retry-After", async () => {
  const engine = await startEngine(undefined, {
    apiKeys: { alice: ALICE, bob: BOB },
    keyMaxConcurrent: 1,
    keyRatePerMinute: 2,
  });
  try {
    const post = (key: string) => engine.post("/execute-langgraph", { code: SLOW, inputs: {} }, bearer(key));
    const [first, second, other] = await Promise.all([
      post(ALICE),
      new Promise((r) => setTimeout(r, 200)).then(() => post(ALICE)),
      post(BOB),
    ]);
    assert.equal(first.body["status"], "success");
    assert.equal(other.body["status"], "success", "another key is not limited by alice's use");
    assert.equal(second.status, 429);
    assert.equal(second.body["code"], "GBX_ERR_RATE_LIMITED");
    // The refused request used no start: alice has one of her two per minute left, then none.
    const third = await engine.post("/execute-langgraph", { code: PYTHON_OK, inputs: {} }, bearer(ALICE));
    assert.equal(third.body["status"], "success");
    const fourth = await engine.post("/execute-langgraph", { code: PYTHON_OK, inputs: {} }, bearer(ALICE));
    assert.equal(fourth.status, 429);
    assert.match(String(fourth.body["error"]), /2 executions per minute/);
  } finally {
    await engine.close();
  }
});

test("keys and auth headers never reach the log", async () => {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
  const openaiKey = `sk-${crypto.randomUUID()}`;
  const config = loadConfig(
    { GRAPHBOX_PORT: "0", GRAPHBOX_LOG_LEVEL: "debug", GRAPHBOX_DATA_DIR: `/tmp/graphbox-log-${crypto.randomUUID()}` },
    { apiKeys: { alice: ALICE }, openai: { baseUrl: "http://127.0.0.1:9/v1", apiKey: openaiKey } },
  );
  const logger = createLogger(config, sink);
  const app = await buildApp(config, { logger });
  try {
    await app.server.inject({
      method: "POST",
      url: "/execute-langgraph",
      headers: bearer(ALICE),
      payload: { code: pythonGraph(`print("${openaiKey}")\nreturn {}`), inputs: {} },
    });
    await app.server.inject({ method: "GET", url: "/ready", headers: bearer("wrong-key-wrong-key") });
    logger.info({ note: `a message quoting ${openaiKey}` }, "scrub check");
    const text = lines.join("");
    assert.ok(text.includes("execution ended"), "one line per execution");
    assert.ok(text.includes('"key":"alice"'));
    assert.ok(!text.includes(ALICE), "an API key was logged");
    assert.ok(!text.includes(openaiKey), "a provider key was logged");
    assert.ok(!text.includes("wrong-key-wrong-key"), "an auth header was logged");
  } finally {
    await app.server.close();
  }
});

test("every route is in /openapi.json, and every error code it names exists and is documented", async () => {
  const engine = await startEngine();
  try {
    const doc = (await (await fetch(`${engine.url}/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    for (const route of engine.app.routes.filter((r) => !r.hidden && r.method !== "HEAD")) {
      const path = route.url.replace(/:(\w+)/g, "{$1}");
      assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${route.url} is not documented`);
    }
    const named = new Set(JSON.stringify(doc).match(/GBX_ERR_[A-Z_]+/g));
    for (const code of named) assert.ok(code in ERRORS, `${code} is documented but does not exist`);
    for (const code of Object.keys(ERRORS)) assert.ok(named.has(code), `${code} is not documented in /openapi.json`);
    const docs = await fetch(`${engine.url}/docs`, { redirect: "follow" });
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  } finally {
    await engine.close();
  }
});
