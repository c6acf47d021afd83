/** Threads, breakpoints, time travel, debug, streaming, cancellation and durability. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { programSource } from "./support/corpus.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { randomPort, startEngineProcess, waitFor } from "./support/process.ts";
import { THREE_STEPS } from "./support/programs.ts";
import { readSse } from "./support/sse.ts";

let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { sseKeepAliveMs: 300 })));
after(async () => engine.close());

const ECHO = programSource("python/01_echo.py");
const hello = { messages: [{ role: "user", content: "Hello" }] };

type Body = Record<string, unknown>;
const meta = (body: Body) => (body["result"] as { metadata: Record<string, unknown> }).metadata;
const state = (body: Body) => (body["result"] as { state: Record<string, unknown> }).state;

async function getJson(url: string): Promise<{ status: number; body: Body }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Body };
}

test("the stream: metadata first, node events in order, increasing ids, keep-alives, one terminal event, replay", async () => {
  const code = THREE_STEPS;
  const read = await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code, inputs: { log: [], sleep: 0.8 } },
  });
  assert.equal(read.status, 200);
  assert.match(read.contentType, /^text\/event-stream/);
  const names = read.events.map((e) => e.event);
  assert.deepEqual(names, [
    "metadata",
    "node_start",
    "update",
    "node_end",
    "node_start",
    "update",
    "node_end",
    "node_start",
    "update",
    "node_end",
    "complete",
  ]);
  assert.deepEqual(
    read.events.map((e) => e.id),
    names.map((_, i) => i + 1),
  );
  for (const event of read.events) assert.equal(event.data["type"], event.event);
  assert.deepEqual(
    read.events.filter((e) => e.event === "node_end").map((e) => [e.data["node"], e.data["step"]]),
    [
      ["first", 1],
      ["slow", 2],
      ["last", 3],
    ],
  );
  assert.deepEqual(read.events[2]!.data["first"], { log: ["first"] });
  assert.ok(read.comments.includes("keepalive"), "a quiet stream sends keep-alive comments");
  const complete = read.events.at(-1)!.data;
  assert.equal(complete["status"], "success");
  assert.deepEqual((complete["result"] as Body)["state"], { log: ["first", "slow", "last"], sleep: 0.8 });

  // Reconnecting with Last-Event-ID replays what came after it.
  const executionId = String(read.events[0]!.data["execution_id"]);
  const replay = await readSse(`${engine.url}/executions/${executionId}/stream`, {
    method: "GET",
    headers: { "last-event-id": "8" },
  });
  assert.deepEqual(
    replay.events.map((e) => e.id),
    [9, 10, 11],
  );
  assert.equal(replay.events.at(-1)!.event, "complete");
});

test("a client that disconnects cancels its execution within a second", async () => {
  let executionId = "";
  let hungUpAt = 0;
  await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code: THREE_STEPS, inputs: { log: [], sleep: 60 } },
    onEvent: (event) => {
      if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      if (event.event === "node_start" && event.data["node"] === "slow") {
        hungUpAt = Date.now();
        return true;
      }
      return false;
    },
  });
  const ended = await waitFor(async () => {
    const { body } = await getJson(`${engine.url}/executions/${executionId}`);
    return body["status"] === "running" ? null : body;
  });
  assert.ok(Date.now() - hungUpAt < 1500, `cancelled after ${Date.now() - hungUpAt} ms`);
  assert.equal(ended["status"], "cancelled");
  assert.equal(ended["error_type"], "cancelled");
});

test("an execution killed mid-way resumes its thread from the last stored step", async () => {
  const thread = `kill-${crypto.randomUUID()}`;
  let executionId = "";
  let slowStarted = false;
  const running = readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code: THREE_STEPS, inputs: { log: [], sleep: 60 }, config: { thread_id: thread } },
    onEvent: (event) => {
      if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      if (event.event === "node_start" && event.data["node"] === "slow") slowStarted = true;
    },
  });
  await waitFor(async () => (executionId ? executionId : null));
  // Busy threads refuse a second execution rather than interleave.
  const busy = await engine.post("/execute-langgraph", {
    code: THREE_STEPS,
    inputs: null,
    config: { thread_id: thread },
  });
  assert.equal(busy.status, 409);
  assert.match(String(busy.body["error"]), /is busy with execution/);
  // `first` has finished (its step stored) once `slow` has started.
  await waitFor(async () => (slowStarted ? true : null));
  const cancel = await engine.post(`/executions/${executionId}/cancel`, {});
  assert.equal(cancel.body["cancelled"], true);
  const stream = await running;
  assert.equal(stream.events.at(-1)!.event, "error");
  assert.equal(stream.events.at(-1)!.data["error_type"], "cancelled");

  // `first` was stored before `slow` started, so the thread resumes at `slow` (which sleeps again: the
  // short timeout only keeps the test quick once the node events show where the run started).
  const resumed = await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code: THREE_STEPS, inputs: null, config: { thread_id: thread, timeout_ms: 1500 } },
  });
  const started = resumed.events.filter((e) => e.event === "node_start").map((e) => e.data["node"]);
  assert.deepEqual(started, ["slow"]);
  assert.equal(resumed.events.at(-1)!.data["error_type"], "timeout");
});

test("breakpoints before and after, then continue with inputs: null", async () => {
  const thread = `bp-${crypto.randomUUID()}`;
  const first = await engine.post("/execute-langgraph", {
    code: ECHO,
    inputs: hello,
    config: { thread_id: thread, breakpoints: [{ node: "greet", when: "after" }] },
  });
  assert.equal(first.body["status"], "interrupted", JSON.stringify(first.body));
  assert.deepEqual(meta(first.body)["next"], ["shout"]);
  assert.deepEqual(meta(first.body)["nodes_executed"], ["greet"]);
  const second = await engine.post("/execute-langgraph", { code: ECHO, inputs: null, config: { thread_id: thread } });
  assert.equal(second.body["status"], "success");
  assert.deepEqual(meta(second.body)["nodes_executed"], ["shout"]);
  assert.equal(state(second.body)["count"], 2);
});

test("inputs: null on a thread with nothing stored is a 400", async () => {
  const answer = await engine.post("/execute-langgraph", {
    code: ECHO,
    inputs: null,
    config: { thread_id: `new-${crypto.randomUUID()}` },
  });
  assert.equal(answer.status, 400);
  assert.match(String(answer.body["error"]), /has no checkpoint to continue from/);
});

test("thread state, history, and time travel to an earlier checkpoint", async () => {
  const thread = `tt-${crypto.randomUUID()}`;
  const run = await engine.post("/execute-langgraph", { code: ECHO, inputs: hello, config: { thread_id: thread } });
  assert.equal(run.body["status"], "success");

  const current = await getJson(`${engine.url}/threads/${thread}/state`);
  assert.equal(current.status, 200);
  assert.equal((current.body["values"] as Body)["count"], 2);
  assert.equal(current.body["checkpoint_id"], meta(run.body)["checkpoint_id"]);

  const history = await getJson(`${engine.url}/threads/${thread}/history`);
  const checkpoints = history.body["checkpoints"] as { checkpoint_id: string; step: number; values: Body }[];
  assert.deepEqual(
    checkpoints.map((c) => c.step),
    [2, 1, 0, -1],
  );
  assert.deepEqual(
    checkpoints.map((c) => c.values["count"] ?? null),
    [2, 1, null, null],
  );
  const afterGreet = checkpoints.find((c) => c.step === 1)!;

  const fork = await engine.post("/execute-langgraph", {
    code: ECHO,
    inputs: null,
    config: { thread_id: thread, checkpoint_id: afterGreet.checkpoint_id },
  });
  assert.equal(fork.body["status"], "success", JSON.stringify(fork.body));
  assert.deepEqual(meta(fork.body)["nodes_executed"], ["shout"]);
  assert.equal(state(fork.body)["count"], 2);
  assert.equal((state(fork.body)["messages"] as unknown[]).length, 3);

  assert.equal((await getJson(`${engine.url}/threads/nope-${thread}/state`)).status, 404);
});

test("debug: each step's tasks, their input and writes, and the state after it", async () => {
  const answer = await engine.post("/execute-langgraph", { code: ECHO, inputs: hello, config: { debug: true } });
  const debug = meta(answer.body)["debug"] as {
    step: number;
    tasks: { node: string; input: Body; writes: Body; duration_ms: number }[];
    state: Body;
  }[];
  const steps = debug.filter((s) => s.tasks.length > 0);
  assert.deepEqual(
    steps.map((s) => s.tasks.map((t) => t.node)),
    [["greet"], ["shout"]],
  );
  assert.equal((steps[0]!.tasks[0]!.writes as { count: number }).count, 1);
  assert.equal(steps[1]!.state["count"], 2);
  assert.equal(typeof steps[0]!.tasks[0]!.duration_ms, "number");
  assert.equal(meta((await engine.post("/execute-langgraph", { code: ECHO, inputs: hello })).body)["debug"], undefined);
});

test("execution records: GET /executions/{id}, unknown ids are 404", async () => {
  const run = await engine.post("/execute-langgraph", { code: ECHO, inputs: hello });
  const id = String(meta(run.body)["execution_id"]);
  const record = await getJson(`${engine.url}/executions/${id}`);
  assert.equal(record.body["status"], "success");
  assert.deepEqual(record.body["nodes_executed"], ["greet", "shout"]);
  assert.deepEqual((record.body["result"] as Body)["status"], "success");
  assert.equal((await getJson(`${engine.url}/executions/${crypto.randomUUID()}`)).status, 404);
});

test("restarting the engine keeps threads, and fails executions the dead engine left running", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-restart-"));
  const port = randomPort();
  const thread = `restart-${crypto.randomUUID()}`;
  try {
    const a = startEngineProcess(dataDir, port);
    await a.ready;
    const post = (url: string, body: unknown) =>
      fetch(`${url}/execute-langgraph`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then(async (r) => (await r.json()) as Body);
    const one = await post(a.url, {
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "one" }] },
      config: { thread_id: thread },
    });
    assert.equal(one["status"], "success");
    // A long execution, then the engine dies (SIGKILL: no clean-up of its own).
    let executionId = "";
    void readSse(`${a.url}/execute-langgraph/stream`, {
      body: { code: THREE_STEPS, inputs: { log: [], sleep: 60 } },
      onEvent: (event) => {
        if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      },
    }).catch(() => undefined);
    await waitFor(async () => (executionId ? true : null));
    a.child.kill("SIGKILL");
    await new Promise((r) => a.child.once("exit", r));

    const b = startEngineProcess(dataDir, port);
    try {
      await b.ready;
      const two = await post(b.url, {
        code: ECHO,
        inputs: { messages: [{ role: "user", content: "two" }] },
        config: { thread_id: thread },
      });
      assert.equal(two["status"], "success");
      assert.equal(state(two)["count"], 4);
      assert.equal((state(two)["messages"] as unknown[]).length, 6);
      const dead = await getJson(`${b.url}/executions/${executionId}`);
      assert.equal(dead.body["status"], "error");
      assert.equal(dead.body["error_type"], "internal_error");
    } finally {
      b.child.kill("SIGTERM");
      await new Promise((r) => b.child.once("exit", r));
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});
