/**
 * Two engines, separate processes on separate ports, on one PostgreSQL started for this file: a
 * thread continued on the other engine, a stream re-joined there, a cancel sent there, one run per
 * thread across both, a burst spread over both, and an engine killed with SIGKILL mid-run whose
 * peer fails its execution after the lease, frees its thread and takes the runs it had queued.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import pg from "pg";

import { AGENT_PROGRAMS } from "./support/agent-programs.ts";
import { agentClient, ok, register } from "./support/agent-client.ts";
import { programSource } from "./support/corpus.ts";
import { THREE_STEPS } from "./support/programs.ts";
import { startPostgres, type TestPostgres } from "./support/postgres.ts";
import { randomPort, startEngineProcess, waitFor, type EngineProcess } from "./support/process.ts";
import { readSse, type SseEvent } from "./support/sse.ts";

type Body = Record<string, unknown>;

const ECHO = programSource("python/01_echo.py");

let postgres: TestPostgres;
let databaseUrl: string;
const dirs: string[] = [];
const engines: EngineProcess[] = [];

function startEngine(env: Record<string, string> = {}): EngineProcess {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-cluster-"));
  dirs.push(dir);
  const engine = startEngineProcess(dir, randomPort(), {
    GRAPHBOX_DATABASE_URL: databaseUrl,
    GRAPHBOX_LOG_LEVEL: "error",
    ...env,
  });
  engines.push(engine);
  return engine;
}

async function post(url: string, body: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${url}/execute-langgraph`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

async function getJson(url: string): Promise<Body> {
  const response = await fetch(url);
  assert.equal(response.status, 200, url);
  return (await response.json()) as Body;
}

const stateOf = (body: Body): Body => (body["result"] as { state: Body }).state;
const metadataOf = (body: Body): Body => (body["result"] as { metadata: Body }).metadata;

/** Starts a stream on `url` and resolves with the execution id once its metadata event arrives. */
function streamInBackground(
  url: string,
  body: unknown,
  onEvent?: (event: SseEvent) => void,
): { id: Promise<string>; done: Promise<SseEvent[]> } {
  let resolveId: (id: string) => void = () => undefined;
  const id = new Promise<string>((r) => (resolveId = r));
  const done = readSse(`${url}/execute-langgraph/stream`, {
    body,
    onEvent: (event) => {
      if (event.event === "metadata") resolveId(String(event.data["execution_id"]));
      onEvent?.(event);
    },
  })
    .then((read) => read.events)
    // The engine serving it may be killed (the last test): what arrived is what there is.
    .catch(() => [] as SseEvent[]);
  return { id, done };
}

let a: EngineProcess;
let b: EngineProcess;

before(async () => {
  postgres = await startPostgres();
  databaseUrl = await postgres.createDatabase();
  // Started one after the other: the first migrates the empty database, the second finds it done.
  a = startEngine();
  b = startEngine();
  await Promise.all([a.ready, b.ready]);
});

after(async () => {
  for (const engine of engines) if (engine.child.exitCode === null) engine.child.kill("SIGKILL");
  await Promise.all(engines.map((e) => e.exited));
  await postgres.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe("two engines on one PostgreSQL", () => {
  test("/ready names the store and counts both engines", async () => {
    for (const engine of [a, b]) {
      const ready = await waitFor(async () => {
        const body = await getJson(`${engine.url}/ready`);
        return (body["cluster"] as Body)["live_engines"] === 2 ? body : null;
      });
      assert.equal(ready["store"], "postgres");
      const cluster = ready["cluster"] as Body;
      assert.equal(typeof cluster["engine_id"], "string");
      assert.match(String(cluster["address"]), /:\d+$/);
    }
    const idA = ((await getJson(`${a.url}/ready`))["cluster"] as Body)["engine_id"];
    const idB = ((await getJson(`${b.url}/ready`))["cluster"] as Body)["engine_id"];
    assert.notEqual(idA, idB);
    const metrics = await (await fetch(`${a.url}/metrics`)).text();
    assert.match(metrics, /^graphbox_cluster_live_engines 2$/m);
    assert.match(metrics, /^graphbox_store_pool_connections\{state="total"\} \d+$/m);
  });

  test("a thread started on one engine continues on the other, and reads the same from both", async () => {
    const thread = `cont-${crypto.randomUUID()}`;
    const one = await post(a.url, {
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "one" }] },
      config: { thread_id: thread },
    });
    assert.equal(one.body["status"], "success");
    const two = await post(b.url, {
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "two" }] },
      config: { thread_id: thread },
    });
    assert.equal(two.body["status"], "success", JSON.stringify(two.body));
    const turn = (stateOf(one.body)["messages"] as unknown[]).length;
    assert.equal(
      (stateOf(two.body)["messages"] as unknown[]).length,
      2 * turn,
      "the second run saw the first's messages",
    );
    const [stateA, stateB] = await Promise.all([
      getJson(`${a.url}/threads/${thread}/state`),
      getJson(`${b.url}/threads/${thread}/state`),
    ]);
    assert.deepEqual(stateA, stateB);
    const [historyA, historyB] = await Promise.all([
      getJson(`${a.url}/threads/${thread}/history`),
      getJson(`${b.url}/threads/${thread}/history`),
    ]);
    assert.deepEqual(historyA, historyB);
    const record = await getJson(`${a.url}/executions/${String(metadataOf(two.body)["execution_id"])}`);
    assert.equal(record["status"], "success", "an execution of B reads the same on A");
  });

  test("a stream re-joined on the other engine with Last-Event-ID gets every later event and one complete", async () => {
    const seen: SseEvent[] = [];
    const run = streamInBackground(a.url, { code: THREE_STEPS, inputs: { log: [], sleep: 2 } }, (e) => seen.push(e));
    const id = await run.id;
    await waitFor(async () => (seen.some((e) => e.event === "node_end" && e.data["node"] === "first") ? true : null));
    const after = seen.at(-1)!.id;
    const rejoined = await readSse(`${b.url}/executions/${id}/stream`, {
      method: "GET",
      headers: { "last-event-id": String(after) },
    });
    const original = await run.done;
    assert.equal(rejoined.status, 200);
    assert.deepEqual(
      rejoined.events.map((e) => [e.id, e.event]),
      original.filter((e) => e.id > after).map((e) => [e.id, e.event]),
      "exactly the events after Last-Event-ID, in order",
    );
    assert.equal(rejoined.events.filter((e) => e.event === "complete").length, 1);
    assert.equal(rejoined.events.at(-1)?.event, "complete");
    assert.ok(
      rejoined.events.some((e) => e.event === "node_end" && e.data["node"] === "slow"),
      "live events of A's run, followed on B",
    );
  });

  test("a cancel sent to the other engine stops the run within a second", async () => {
    const seen: SseEvent[] = [];
    const run = streamInBackground(a.url, { code: THREE_STEPS, inputs: { log: [], sleep: 30 } }, (e) => seen.push(e));
    const id = await run.id;
    await waitFor(async () => (seen.some((e) => e.event === "node_start" && e.data["node"] === "slow") ? true : null));
    const asked = performance.now();
    const response = await fetch(`${b.url}/executions/${id}/cancel`, { method: "POST" });
    const answer = (await response.json()) as Body;
    const tookMs = performance.now() - asked;
    assert.equal(response.status, 200);
    assert.equal(answer["cancelled"], true);
    assert.equal((answer["execution"] as Body)["status"], "cancelled");
    assert.ok(tookMs < 1000, `the run stopped ${Math.round(tookMs)} ms after the cancel`);
    const events = await run.done;
    assert.equal(events.at(-1)?.event, "error");
    assert.equal(events.at(-1)?.data["error_type"], "cancelled");
  });

  test("never two runs on one thread at once across engines", async () => {
    const thread = `one-${crypto.randomUUID()}`;
    const attempts = Array.from({ length: 12 }, (_, i) =>
      post(i % 2 === 0 ? a.url : b.url, {
        code: THREE_STEPS,
        inputs: { log: [], sleep: 0.3 },
        config: { thread_id: thread },
      }),
    );
    const answers = await Promise.all(attempts);
    const ran = answers.filter((r) => r.status === 200);
    const refused = answers.filter((r) => r.status === 409);
    assert.ok(ran.length >= 1, "one ran");
    assert.equal(ran.length + refused.length, answers.length, JSON.stringify(answers.map((r) => r.status)));
    for (const r of refused) assert.equal((r.body as Body)["code"], "GBX_ERR_THREAD_BUSY");
    // The runs that did run never overlapped in time.
    const records = await Promise.all(
      ran.map((r) => getJson(`${a.url}/executions/${String(metadataOf(r.body)["execution_id"])}`)),
    );
    const windows = records
      .map((r) => [Date.parse(String(r["started_at"])), Date.parse(String(r["ended_at"]))] as const)
      .sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < windows.length; i++)
      assert.ok(windows[i]![0] >= windows[i - 1]![1], "runs on one thread overlapped");
  });

  test("a value PostgreSQL cannot hold (a NUL in a thread id) is a 400 that names it, and the engine goes on", async () => {
    const refused = await post(a.url, {
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "hi" }] },
      config: { thread_id: "nul\u0000id" },
    });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body["code"], "GBX_ERR_INVALID_REQUEST");
    assert.match(String(refused.body["error"]), /NUL|U\+0000|\\u0000/i);
    const fine = await post(a.url, { code: ECHO, inputs: { messages: [{ role: "user", content: "hi" }] } });
    assert.equal(fine.body["status"], "success", JSON.stringify(fine.body));
  });

  test("40 concurrent runs spread over both engines all succeed", async () => {
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        post(i % 2 === 0 ? a.url : b.url, { code: ECHO, inputs: { messages: [{ role: "user", content: `n${i}` }] } }),
      ),
    );
    assert.deepEqual(
      answers.map((r) => r.status),
      Array(40).fill(200),
    );
    assert.ok(answers.every((r) => r.body["status"] === "success"));
  });

  test("an engine killed mid-run: its peer fails the execution after the lease, the thread continues from its last checkpoint, its queued run is taken", async () => {
    const thread = `kill-${crypto.randomUUID()}`;
    const seen: SseEvent[] = [];
    const run = streamInBackground(
      a.url,
      { code: THREE_STEPS, inputs: { log: [] }, config: { thread_id: thread, configurable: { sleep: 60 } } },
      (e) => seen.push(e),
    );
    const id = await run.id;
    await waitFor(async () => (seen.some((e) => e.event === "node_start" && e.data["node"] === "slow") ? true : null));

    // An Agent API run queued on A behind a long run of A's: accepted, not started.
    const client = agentClient(a.url, "");
    await register(client, { graphId: "py-slow", ...AGENT_PROGRAMS["py-slow"] });
    const agentThread = ok(await client.call("POST", "/threads", { body: {} }))["thread_id"] as string;
    const long = ok(
      await client.call("POST", `/threads/${agentThread}/runs`, {
        body: { assistant_id: "py-slow", input: { n: 60 } },
      }),
    );
    await waitFor(
      async () =>
        ok(await client.call("GET", `/threads/${agentThread}/runs/${String(long["run_id"])}`))["status"] === "running"
          ? true
          : null,
      30_000,
    );
    const queued = ok(
      await client.call("POST", `/threads/${agentThread}/runs`, {
        body: { assistant_id: "py-slow", input: { n: 0 }, multitask_strategy: "enqueue" },
      }),
    );
    assert.equal(queued["status"], "pending");

    const rejoin = readSse(`${b.url}/executions/${id}/stream`, {
      method: "GET",
      headers: { "last-event-id": String(seen.at(-1)!.id) },
    });
    a.child.kill("SIGKILL");
    const killedAt = performance.now();
    await a.exited;

    // On the default lease (15 s, renewed every 5 s) the peer fails it well within 60 s.
    const failed = await waitFor(async () => {
      const record = await getJson(`${b.url}/executions/${id}`);
      return record["status"] === "running" ? null : record;
    }, 60_000);
    const markedAfterS = (performance.now() - killedAt) / 1000;
    assert.equal(failed["status"], "error");
    assert.equal(failed["error_type"], "internal_error");
    const rejoined = await rejoin;
    assert.equal(rejoined.events.at(-1)?.event, "error", "the stream followed on B ends with an error event");
    assert.equal(rejoined.events.at(-1)?.data["error_type"], "internal_error");

    // The thread is free at once and continues from its last checkpoint: `first` is not run again.
    const resumed = await post(b.url, {
      code: THREE_STEPS,
      inputs: null,
      config: { thread_id: thread, configurable: { sleep: 0 } },
    });
    assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
    assert.equal(resumed.body["status"], "success", JSON.stringify(resumed.body));
    assert.deepEqual(stateOf(resumed.body)["log"], ["first", "slow", "last"]);
    assert.deepEqual(metadataOf(resumed.body)["nodes_executed"], ["slow", "last"]);
    const usableAfterS = (performance.now() - killedAt) / 1000;
    assert.ok(usableAfterS < 90, `the thread was usable ${usableAfterS.toFixed(1)} s after the kill`);

    // The Agent API: A's running run ended `error`, and the run it had queued ran on B.
    const clientB = agentClient(b.url, "");
    const queuedEnd = ok(await clientB.call("GET", `/threads/${agentThread}/runs/${String(queued["run_id"])}/join`));
    assert.deepEqual(queuedEnd, { n: 1 });
    assert.equal(
      ok(await clientB.call("GET", `/threads/${agentThread}/runs/${String(long["run_id"])}`))["status"],
      "error",
    );
    assert.equal(
      ok(await clientB.call("GET", `/threads/${agentThread}/runs/${String(queued["run_id"])}`))["status"],
      "success",
    );
    console.log(
      `# killed engine: execution failed after ${markedAfterS.toFixed(1)} s, thread usable after ${usableAfterS.toFixed(1)} s`,
    );

    const ready = await waitFor(async () => {
      const body = await getJson(`${b.url}/ready`);
      return (body["cluster"] as Body)["live_engines"] === 1 ? body : null;
    });
    assert.equal((ready["cluster"] as Body)["live_engines"], 1);
  });

  test("the dead engine's lease is gone from the database, the live one's is there", async () => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ engine_id: string }>("SELECT engine_id FROM engines");
      const live = ((await getJson(`${b.url}/ready`))["cluster"] as Body)["engine_id"];
      assert.deepEqual(
        rows.map((r) => r.engine_id),
        [live],
      );
    } finally {
      await client.end();
    }
  });
});
