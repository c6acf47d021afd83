/**
 * Claims of the README that no other suite tested, each through real HTTP (or a real engine
 * process): a program reaches only its own thread through the checkpointer; a thread belongs to
 * its runtime; refusals of a stream are plain JSON; a reader follows a running execution after
 * Last-Event-ID; the gateway's upstream timeout; RLIMIT_NOFILE; no start without a sandbox.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import { PROJECT_ROOT } from "../src/config/index.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { compiledServer, randomPort, waitFor } from "./support/process.ts";
import { PYTHON_OK, pythonGraph, TYPESCRIPT_OK, typescriptGraph } from "./support/programs.ts";
import { readSse, type SseEvent } from "./support/sse.ts";

type Json = Record<string, unknown>;

/** Every LLM call stalls past the engine's upstream timeout (no other test here calls an LLM). */
const UPSTREAM_TIMEOUT_MS = 300;
let stalling: LlmStandIn;
let engine: RunningEngine;
before(async () => {
  stalling = await startLlmStandIn({ delayMs: 20_000 });
  engine = await startEngine(stalling, { upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS });
});
after(async () => {
  await engine.close();
  await stalling.close();
});

/** What the program found out, returned as JSON in state.out. */
function findings(body: Json): Json {
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
  return JSON.parse(String((body["result"] as { state: { out: string } }).state.out)) as Json;
}

async function run(
  code: string,
  language: "python" | "typescript",
  config: Json = {},
  on: RunningEngine = engine,
): Promise<Json> {
  const { status, body } = await on.post("/execute-langgraph", { code, language, inputs: { value: 1 }, config });
  assert.equal(status, 200, JSON.stringify(body).slice(0, 2000));
  return body;
}

test("a Python program cannot reach another thread through the engine's checkpointer", async () => {
  const secret = `SECRET-${crypto.randomUUID()}`;
  const victim = `victim-${crypto.randomUUID()}`;
  const stored = await run(pythonGraph(`return {"out": ${JSON.stringify(secret)}}`), "python", { thread_id: victim });
  assert.equal(stored["status"], "success");
  // The secret's halves are joined only in the answer's check below: the thief's source holds no copy.
  const thief = pythonGraph(
    `import json
from langgraph.config import get_config
r = {}
saver = get_config()["configurable"]["__pregel_checkpointer"]
r["saver"] = type(saver).__name__
def attempt(fn):
    try:
        return ["DONE", repr(fn())[:2000]]
    except Exception as e:
        return [type(e).__name__, str(e)[:300]]
victim = ${JSON.stringify(victim)}
r["get_tuple"] = attempt(lambda: saver.get_tuple({"configurable": {"thread_id": victim, "checkpoint_ns": ""}}))
r["list"] = attempt(lambda: list(saver.list({"configurable": {"thread_id": victim}})))
r["list everything"] = attempt(lambda: [t.config["configurable"]["thread_id"] for t in saver.list(None)])
r["put"] = attempt(lambda: saver.put({"configurable": {"thread_id": victim, "checkpoint_ns": ""}}, {"v": 1, "id": "x", "ts": "", "channel_values": {}, "channel_versions": {}, "versions_seen": {}}, {}, {}))
r["own thread"] = attempt(lambda: saver.get_tuple({"configurable": {"thread_id": get_config()["configurable"]["thread_id"], "checkpoint_ns": ""}}) is not None)
return {"out": json.dumps(r)}`,
  );
  const own = `thief-${crypto.randomUUID()}`;
  // A first run gives the thief's own thread a checkpoint, so reading its own thread is shown to work.
  assert.equal((await run(PYTHON_OK, "python", { thread_id: own }))["status"], "success");
  const answer = await run(thief, "python", { thread_id: own });
  assert.ok(!JSON.stringify(answer).includes(secret), "the other thread's state reached the program");
  const r = findings(answer);
  assert.equal(r["saver"], "EngineCheckpointSaver");
  for (const op of ["get_tuple", "list", "put"]) {
    const [outcome, message] = r[op] as [string, string];
    assert.notEqual(outcome, "DONE", `${op} on another thread: ${String(message)}`);
    assert.match(String(message), new RegExp(`may only use its own thread "${own}"`), op);
  }
  // Without a thread id the engine lists the execution's own thread, nothing else.
  const [listed, threads] = r["list everything"] as [string, string];
  assert.equal(listed, "DONE");
  assert.ok(!threads.includes(victim) && threads.includes(own), threads);
  assert.deepEqual(r["own thread"], ["DONE", "True"]);
  // And the victim's thread is as its owner left it.
  const state = (await (await fetch(`${engine.url}/threads/${victim}/state`)).json()) as { values?: Json };
  assert.equal(state.values?.["out"], secret);
});

describe("a thread belongs to the runtime that wrote it (GBX_ERR_THREAD_RUNTIME)", () => {
  for (const [first, second] of [
    ["python", "typescript"],
    ["typescript", "python"],
  ] as const) {
    test(`a ${second} program on a ${first} thread: 409, on the stream as plain JSON too`, async () => {
      const thread = `runtime-${crypto.randomUUID()}`;
      const program = { python: PYTHON_OK, typescript: TYPESCRIPT_OK };
      assert.equal((await run(program[first], first, { thread_id: thread }))["status"], "success");
      const body = { code: program[second], language: second, inputs: { value: 1 }, config: { thread_id: thread } };
      const refused = await engine.post("/execute-langgraph", body);
      assert.equal(refused.status, 409);
      assert.equal(refused.body["code"], "GBX_ERR_THREAD_RUNTIME");
      assert.match(
        String(refused.body["error"]),
        new RegExp(`was written by the ${first === "python" ? "python" : "js"} runtime`),
      );
      const streamed = await readSse(`${engine.url}/execute-langgraph/stream`, { body });
      assert.equal(streamed.status, 409);
      assert.match(streamed.contentType, /^application\/json/);
      assert.equal(streamed.events[0]!.data["code"], "GBX_ERR_THREAD_RUNTIME");
      // The thread is untouched: its own runtime continues it.
      assert.equal((await run(program[first], first, { thread_id: thread }))["status"], "success");
    });
  }
});

test("a stream refused before it starts (400, 409 busy) is a plain JSON answer, not a stream", async () => {
  const invalid = await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code: PYTHON_OK, inputs: {}, config: { "thread-id": "typo" } },
  });
  assert.equal(invalid.status, 400);
  assert.match(invalid.contentType, /^application\/json/);
  assert.equal(invalid.events[0]!.data["code"], "GBX_ERR_INVALID_REQUEST");
  assert.match(String(invalid.events[0]!.data["error"]), /thread-id/);

  const thread = `busy-${crypto.randomUUID()}`;
  let executionId = "";
  let running!: () => void;
  const started = new Promise<void>((resolve) => (running = resolve));
  const holder = readSse(`${engine.url}/execute-langgraph/stream`, {
    body: {
      code: pythonGraph(`import time\ntime.sleep(30)\nreturn {"out": "late"}`),
      inputs: {},
      config: { thread_id: thread },
    },
    onEvent: (event) => {
      if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      if (event.event === "node_start") running();
    },
  });
  void holder.then(running, running);
  await started;
  const busy = await readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code: PYTHON_OK, inputs: {}, config: { thread_id: thread } },
  });
  assert.equal(busy.status, 409);
  assert.match(busy.contentType, /^application\/json/);
  assert.equal(busy.events[0]!.data["code"], "GBX_ERR_THREAD_BUSY");
  await engine.post(`/executions/${executionId}/cancel`, {});
  assert.equal((await holder).events.at(-1)!.data["error_type"], "cancelled");
});

test("GET /executions/{id}/stream with Last-Event-ID follows a still-running execution to its end", async () => {
  const code = `import time
from typing import TypedDict, Annotated
import operator
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    log: Annotated[list, operator.add]

def first(state):
    return {"log": ["first"]}

def slow(state):
    time.sleep(1.5)
    return {"log": ["slow"]}

def last(state):
    return {"log": ["last"]}

workflow = StateGraph(State)
for name, fn in (("first", first), ("slow", slow), ("last", last)):
    workflow.add_node(name, fn)
workflow.add_edge(START, "first")
workflow.add_edge("first", "slow")
workflow.add_edge("slow", "last")
workflow.add_edge("last", END)
`;
  let executionId = "";
  let slowAt = 0;
  let slowStarted!: () => void;
  const atSlow = new Promise<void>((resolve) => (slowStarted = resolve));
  const origin = readSse(`${engine.url}/execute-langgraph/stream`, {
    body: { code, inputs: { log: [] } },
    onEvent: (event) => {
      if (event.event === "metadata") executionId = String(event.data["execution_id"]);
      if (event.event === "node_start" && event.data["node"] === "slow") {
        slowAt = event.id;
        slowStarted();
      }
    },
  });
  void origin.then(slowStarted, slowStarted);
  await atSlow;
  // Still running while the second reader connects: what it reads after slowAt is partly live.
  const status = (await (await fetch(`${engine.url}/executions/${executionId}`)).json()) as Json;
  assert.equal(status["status"], "running");
  const follower = await readSse(`${engine.url}/executions/${executionId}/stream`, {
    method: "GET",
    headers: { "last-event-id": String(slowAt) },
  });
  const originEvents = (await origin).events;
  assert.equal(follower.status, 200);
  assert.match(follower.contentType, /^text\/event-stream/);
  const view = (events: SseEvent[]) => events.map((e) => [e.id, e.event, e.data["node"] ?? null]);
  assert.deepEqual(view(follower.events), view(originEvents.filter((e) => e.id > slowAt)));
  assert.deepEqual(
    follower.events.map((e) => e.event),
    ["update", "node_end", "node_start", "update", "node_end", "complete"],
  );
  assert.deepEqual((follower.events.at(-1)!.data["result"] as { state: Json }).state, {
    log: ["first", "slow", "last"],
  });
});

test("GRAPHBOX_SANDBOX_OPEN_FILES (RLIMIT_NOFILE): a program opening more files gets EMFILE, in both runtimes", async () => {
  const limit = engine.app.engine.config.sandbox.openFiles;
  const python = findings(
    await run(
      pythonGraph(`import json, os, errno
fds = []
r = {}
try:
    while len(fds) < ${limit + 100}:
        fds.append(os.open("/dev/null", os.O_RDONLY))
except OSError as e:
    r["error"] = errno.errorcode.get(e.errno, str(e.errno))
r["opened"] = len(fds)
r["highest"] = max(fds)
for fd in fds:
    os.close(fd)
return {"out": json.dumps(r)}`),
      "python",
    ),
  );
  const typescript = findings(
    await run(
      typescriptGraph(
        `const fds: number[] = [];
const r: Record<string, unknown> = {};
try {
  while (fds.length < ${limit + 100}) fds.push(openSync("/dev/null", "r"));
} catch (e: any) {
  r.error = e?.code;
}
r.opened = fds.length;
r.highest = Math.max(...fds);
for (const fd of fds) closeSync(fd);
return { out: JSON.stringify(r) };`,
        `import { closeSync, openSync } from "node:fs";`,
      ),
      "typescript",
    ),
  );
  for (const [runtime, r] of [
    ["python", python],
    ["typescript", typescript],
  ] as const) {
    assert.equal(r["error"], "EMFILE", `${runtime}: ${JSON.stringify(r)}`);
    assert.equal(r["highest"], limit - 1, `${runtime}: descriptors stop just below the limit of ${limit}`);
    assert.ok(Number(r["opened"]) > limit - 64, `${runtime}: ${JSON.stringify(r)}`);
  }
});

test("GRAPHBOX_UPSTREAM_TIMEOUT_MS: a provider that does not start answering in time is a 504 to the program, in the provider's shape", async () => {
  const r = findings(
    await run(
      pythonGraph(`import json, time
from langchain_openai import ChatOpenAI
import openai
r = {}
started = time.monotonic()
try:
    ChatOpenAI(model="gpt-4o-mini", max_retries=0).invoke("hello")
    r["answer"] = "answered"
except openai.APIStatusError as e:
    r["status"] = e.status_code
    r["message"] = str(e)[:300]
r["seconds"] = time.monotonic() - started
return {"out": json.dumps(r)}`),
      "python",
    ),
  );
  assert.equal(r["status"], 504, JSON.stringify(r));
  assert.match(String(r["message"]), /upstream openai did not answer in time/);
  assert.ok(
    Number(r["seconds"]) >= UPSTREAM_TIMEOUT_MS / 1000 && Number(r["seconds"]) < 5,
    `the call took ${String(r["seconds"])} s`,
  );
});

describe("the engine refuses to start without a sandbox, unless GRAPHBOX_UNSAFE_NO_SANDBOX=1", () => {
  /**
   * Starts the compiled engine in a mount namespace of its own where /usr/bin/bwrap cannot run (masked
   * by /dev/null, as systemd masks a unit): a host without a working bubblewrap.
   */
  function startWithoutBwrap(env: Record<string, string>): {
    exited: Promise<number | null>;
    output: () => string;
    url: string;
    stop: () => void;
  } {
    const dataDir = mkdtempSync(join(tmpdir(), "graphbox-nobwrap-"));
    const port = randomPort();
    const unshare =
      process.getuid?.() === 0
        ? ["--mount", "--propagation", "private"]
        : ["--user", "--map-root-user", "--mount", "--propagation", "private"];
    const child = spawn(
      "unshare",
      [
        ...unshare,
        "/bin/sh",
        "-c",
        'mount --bind /dev/null /usr/bin/bwrap && exec "$@"',
        "sh",
        process.execPath,
        compiledServer(),
      ],
      {
        cwd: PROJECT_ROOT,
        env: {
          ...process.env,
          GRAPHBOX_PORT: String(port),
          GRAPHBOX_DATA_DIR: dataDir,
          GRAPHBOX_LOG_LEVEL: "info",
          ...env,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    exited.then(
      () => rmSync(dataDir, { recursive: true, force: true }),
      () => undefined,
    );
    return { exited, output: () => output, url: `http://127.0.0.1:${port}`, stop: () => child.kill("SIGKILL") };
  }

  test("without a working bubblewrap the engine exits 2, naming the problem", async () => {
    const engineProcess = startWithoutBwrap({});
    try {
      const code = await Promise.race([
        engineProcess.exited,
        new Promise<"running">((r) => setTimeout(() => r("running"), 60_000).unref()),
      ]);
      assert.equal(code, 2, engineProcess.output());
      assert.match(engineProcess.output(), /this host cannot sandbox programs: bubblewrap: /);
      assert.match(engineProcess.output(), /GRAPHBOX_UNSAFE_NO_SANDBOX=1/);
      assert.equal(
        await fetch(`${engineProcess.url}/health`).then(
          () => "answered",
          () => "refused",
        ),
        "refused",
      );
    } finally {
      engineProcess.stop();
    }
  });

  test("with GRAPHBOX_UNSAFE_NO_SANDBOX=1 it starts, says so, and runs programs", async () => {
    const engineProcess = startWithoutBwrap({ GRAPHBOX_UNSAFE_NO_SANDBOX: "1" });
    try {
      await waitFor(
        async () => ((await fetch(`${engineProcess.url}/health`).catch(() => null))?.ok ? true : null),
        60_000,
      );
      const ready = (await (await fetch(`${engineProcess.url}/ready`)).json()) as {
        sandbox: { mode: string; sandboxed: boolean };
      };
      assert.equal(ready.sandbox.mode, "none");
      assert.equal(ready.sandbox.sandboxed, false);
      const answer = await fetch(`${engineProcess.url}/execute-langgraph`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ code: PYTHON_OK, inputs: {} }),
      });
      assert.equal(((await answer.json()) as Json)["status"], "success");
      assert.match(engineProcess.output(), /programs run with NO ISOLATION/);
    } finally {
      engineProcess.stop();
      await engineProcess.exited;
    }
  });
});
