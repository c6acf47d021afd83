/**
 * Admission over real HTTP: one busy client is queued, not refused; 429 only for a key over a
 * per-key limit that is configured; 503 for a full engine (queue full, or no slot in time). And
 * it is the engine's: a caller of Engine.execute that is not a route is held to the same limits.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { GraphboxError } from "../src/contract/errors.ts";
import { ANONYMOUS_OWNER } from "../src/http/auth.ts";
import { toExecutionRequest } from "../src/http/request.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { PYTHON_OK, pythonGraph, TYPESCRIPT_OK } from "./support/programs.ts";
import { waitFor } from "./support/process.ts";
import { readSse } from "./support/sse.ts";

type Json = Record<string, unknown>;

/** Holds its slot long enough for every request of a burst to arrive while it runs. */
const SLOW = pythonGraph(`import time\ntime.sleep(1)\nreturn {"out": "done"}`);

interface Answer {
  status: number;
  retryAfter: string | null;
  contentType: string;
  body: Json;
}

async function post(
  engine: RunningEngine,
  code: string,
  headers: Record<string, string> = {},
  path = "/execute-langgraph",
): Promise<Answer> {
  const response = await fetch(engine.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ code, inputs: {} }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    contentType: response.headers.get("content-type") ?? "",
    body: (await response.json()) as Json,
  };
}

/** An execution that holds a slot: `started` resolves once its first node runs; `cancel()` frees the slot. */
function holdSlot(
  engine: RunningEngine,
  code: string,
  headers: Record<string, string> = {},
): { started: Promise<void>; done: Promise<unknown>; cancel(): Promise<void> } {
  let executionId = "";
  let started!: () => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  const done = readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code, inputs: {} },
    headers,
    onEvent: (event) => {
      if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      if (event.event === "node_start") started();
    },
  });
  // A stream that ends before its node starts lets the test fail on its assertions instead of hanging.
  void done.then(started, started);
  return {
    started: startedPromise,
    done,
    async cancel() {
      if (executionId)
        await fetch(`${engine.url}/executions/${executionId}/cancel`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: "{}",
        });
      await done;
    },
  };
}

/** Requests waiting for a slot, as /metrics says. */
async function queueDepth(engine: RunningEngine): Promise<number> {
  const metrics = await (await fetch(`${engine.url}/metrics`)).text();
  return Number(/^graphbox_queue_depth (\S+)$/m.exec(metrics)?.[1] ?? Number.NaN);
}

const HOLD = pythonGraph(`import time\ntime.sleep(30)\nreturn {"out": "late"}`);

test("40 concurrent requests from one client without API keys, on the default configuration, all succeed (queued)", async () => {
  const defaults = loadConfig({});
  const engine = await startEngine();
  try {
    const answers = await Promise.all(Array.from({ length: 40 }, () => post(engine, SLOW)));
    const refused = answers.filter((a) => a.status !== 200).map((a) => `${a.status} ${String(a.body["error"])}`);
    assert.deepEqual(refused, [], `${refused.length} of 40 refused`);
    for (const answer of answers)
      assert.equal(answer.body["status"], "success", JSON.stringify(answer.body).slice(0, 1000));
    // On a host with fewer than 40 slots (2 cores: 16) the rest waited in the queue for a slot to
    // free, which takes a SLOW run (over a second): the queue was used, not bypassed.
    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    const sample = (name: string): number =>
      Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1] ?? Number.NaN);
    const waitedLong =
      sample("graphbox_queue_wait_seconds_count") - sample('graphbox_queue_wait_seconds_bucket\\{le="0.25"\\}');
    assert.equal(sample("graphbox_queue_wait_seconds_count"), 40);
    assert.ok(
      waitedLong >= Math.max(0, 40 - defaults.maxConcurrent),
      `${waitedLong} waited for a slot with ${defaults.maxConcurrent} slots`,
    );
    assert.equal(defaults.keyMaxConcurrent, 0, "no per-key limit by default");
  } finally {
    await engine.close();
  }
});

test("a key over its configured GRAPHBOX_KEY_MAX_CONCURRENT gets 429 with Retry-After; other keys and the engine are not limited by it", async () => {
  const alice = `alice-key-${crypto.randomUUID()}`;
  const bob = `bob-key-${crypto.randomUUID()}`;
  const engine = await startEngine(undefined, { apiKeys: { alice, bob }, keyMaxConcurrent: 2 });
  try {
    const as = (key: string) => ({ authorization: `Bearer ${key}` });
    const answers = await Promise.all([
      post(engine, SLOW, as(alice)),
      post(engine, SLOW, as(alice)),
      post(engine, SLOW, as(alice)),
      post(engine, SLOW, as(bob)),
      post(engine, SLOW, as(bob)),
    ]);
    const aliceStatuses = answers
      .slice(0, 3)
      .map((a) => a.status)
      .sort();
    assert.deepEqual(aliceStatuses, [200, 200, 429]);
    assert.deepEqual(
      answers.slice(3).map((a) => a.status),
      [200, 200],
      "bob has his own two",
    );
    const limited = answers.find((a) => a.status === 429)!;
    assert.equal(limited.body["code"], "GBX_ERR_RATE_LIMITED");
    assert.match(
      String(limited.body["error"]),
      /already has 2 executions running or queued .*GRAPHBOX_KEY_MAX_CONCURRENT.* 2/,
    );
    assert.match(limited.retryAfter ?? "", /^[1-9]\d*$/);
    // Once hers have ended, alice is admitted again.
    assert.equal((await post(engine, PYTHON_OK, as(alice))).body["status"], "success");
    // A stream over her limit is refused the same way: plain JSON, before any stream opens.
    const held = [holdSlot(engine, HOLD, as(alice)), holdSlot(engine, HOLD, as(alice))];
    await Promise.all(held.map((h) => h.started));
    const stream = await post(engine, PYTHON_OK, as(alice), "/execute-langgraph/stream");
    assert.equal(stream.status, 429);
    assert.match(stream.contentType, /^application\/json/);
    assert.equal(stream.body["code"], "GBX_ERR_RATE_LIMITED");
    assert.match(stream.retryAfter ?? "", /^[1-9]\d*$/);
    await Promise.all(held.map((h) => h.cancel()));
  } finally {
    await engine.close();
  }
});

test("a full queue is a 503 for the engine, not a 429 for the key, on the stream too; a refused start is not charged to the key's rate", async () => {
  // One slot, one place in the queue, three starts per minute for the (anonymous) key.
  const engine = await startEngine(undefined, { maxConcurrent: 1, queueSize: 1, keyRatePerMinute: 3 });
  try {
    const first = holdSlot(engine, SLOW);
    await first.started;
    const queued = post(engine, PYTHON_OK);
    await waitFor(async () => ((await queueDepth(engine)) === 1 ? true : null));
    for (const path of ["/execute-langgraph", "/execute-langgraph/stream"]) {
      const full = await post(engine, PYTHON_OK, {}, path);
      assert.equal(full.status, 503, `${path}: ${JSON.stringify(full.body)}`);
      assert.match(full.contentType, /^application\/json/, path);
      assert.equal(full.body["code"], "GBX_ERR_OVERLOADED");
      assert.match(String(full.body["error"]), /the engine is full: 1 executions running and 1 queued/);
      assert.match(full.retryAfter ?? "", /^[1-9]\d*$/);
    }
    // The queued one waited for the first and ran: two starts used, the two refused ones given back.
    assert.equal((await queued).body["status"], "success");
    await first.done;
    const third = await post(engine, PYTHON_OK);
    assert.equal(third.status, 200, `a refused start was charged to the key: ${JSON.stringify(third.body)}`);
    const overRate = await post(engine, PYTHON_OK);
    assert.equal(overRate.status, 429, "the key's three starts per minute are used");
    assert.equal(overRate.body["code"], "GBX_ERR_RATE_LIMITED");
    assert.match(String(overRate.body["error"]), /rate of 3 executions per minute/);
    assert.match(overRate.retryAfter ?? "", /^[1-9]\d*$/);
  } finally {
    await engine.close();
  }
});

test("no slot within GRAPHBOX_QUEUE_TIMEOUT_MS is a 503 with Retry-After, answered at the timeout", async () => {
  const engine = await startEngine(undefined, { maxConcurrent: 1, queueTimeoutMs: 300 });
  try {
    const first = holdSlot(engine, HOLD);
    await first.started;
    const sentAt = performance.now();
    const waited = await post(engine, PYTHON_OK);
    const tookMs = performance.now() - sentAt;
    assert.equal(waited.status, 503, JSON.stringify(waited.body));
    assert.equal(waited.body["code"], "GBX_ERR_OVERLOADED");
    assert.match(String(waited.body["error"]), /no execution slot freed within 300 ms/);
    assert.match(waited.retryAfter ?? "", /^[1-9]\d*$/);
    assert.ok(tookMs >= 290 && tookMs < 5_000, `answered after ${Math.round(tookMs)} ms`);
    // The waiter left the queue: the engine holds one execution and queues nothing.
    assert.equal(engine.app.admission.queued, 0);
    assert.equal(engine.app.admission.inFlight, 1);
    await first.cancel();
  } finally {
    await engine.close();
  }
});

test("admission is the engine's: a caller of Engine.execute other than HTTP is queued, refused and released like a request", async () => {
  const engine = await startEngine(undefined, { maxConcurrent: 1, queueSize: 1, queueTimeoutMs: 60_000 });
  const { engine: core, admission, server } = engine.app;
  const config = core.config;
  const direct = (code: string, threadId?: string) =>
    core.execute({
      request: toExecutionRequest(
        { code, inputs: {}, ...(threadId ? { config: { thread_id: threadId } } : {}) },
        config,
        false,
      ),
      owner: ANONYMOUS_OWNER,
    });
  try {
    const first = holdSlot(engine, HOLD);
    await first.started;
    // One slot taken over HTTP: a direct call waits in the engine's queue, and a second one finds it full.
    const queued = direct(PYTHON_OK);
    await waitFor(async () => (admission.queued === 1 ? true : null));
    await assert.rejects(
      direct(PYTHON_OK),
      (err: unknown) => err instanceof GraphboxError && err.code === "GBX_ERR_OVERLOADED",
    );
    await first.cancel();
    const outcome = await queued;
    assert.equal(outcome.status, "success", JSON.stringify(outcome).slice(0, 1000));
    // Its wait was measured where it was admitted, in the engine.
    const metrics = (await server.inject({ method: "GET", url: "/metrics" })).body;
    assert.ok(
      Number(/^graphbox_queue_wait_seconds_sum (\S+)$/m.exec(metrics)?.[1]) > 0,
      "the queued call's wait was recorded",
    );
    // A call refused after it was admitted (a thread of the other runtime) gives its slot back.
    await direct(PYTHON_OK, "admitted-python");
    await assert.rejects(
      direct(TYPESCRIPT_OK, "admitted-python"),
      (err: unknown) => err instanceof GraphboxError && err.code === "GBX_ERR_THREAD_RUNTIME",
    );
    assert.deepEqual([admission.inFlight, admission.queued], [0, 0]);
  } finally {
    await engine.close();
  }
});
