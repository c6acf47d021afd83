/**
 * The attack suites through LangGraph's Agent API: hostile programs registered with
 * `PUT /graphs/{id}` and run with `/runs/wait`, `/runs/stream` and a background run joined. A run
 * is an execution, so every guarantee of /execute-langgraph holds for it: the escapes fail, the
 * limits end the run (`error` and an SSE `error` event), the engine and other runs carry on. Then
 * the Agent API's own surfaces, written by the program: forged chunks, answers, thread states,
 * describe answers and store requests; node names that would break an SSE line or reach a
 * prototype; and each API key's graphs, assistants, threads, runs and store items, which another
 * key cannot see, not even from inside a run of its own program.
 */
import assert from "node:assert/strict";
import { networkInterfaces } from "node:os";
import { after, before, describe, test } from "node:test";

import { PROJECT_ROOT } from "../src/config/index.ts";
import {
  agentClient,
  ok,
  register,
  runJoined,
  runRecord,
  runStream,
  runWait,
  type AgentClient,
  type Json,
} from "./support/agent-client.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { survivors } from "./support/processes.ts";
import { pythonGraph, pythonOneNode, typescriptGraph } from "./support/programs.ts";

const ALICE = `alice-key-${crypto.randomUUID()}`;
const BOB = `bob-key-${crypto.randomUUID()}`;
const OPENAI_KEY = `sk-agent-attacks-openai-${crypto.randomUUID()}`;
const ANTHROPIC_KEY = `sk-ant-agent-attacks-${crypto.randomUUID()}`;
const MAX_EVENTS = 300;
const MAX_OUTPUT_BYTES = 3 * 1024 * 1024;

let llm: LlmStandIn;
let engine: RunningEngine;
let alice: AgentClient;
let bob: AgentClient;

before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(undefined, {
    apiKeys: { alice: ALICE, bob: BOB },
    // Keys through the config object: in no process environment of this host.
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: OPENAI_KEY },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: ANTHROPIC_KEY },
    maxEvents: MAX_EVENTS,
    maxOutputBytes: MAX_OUTPUT_BYTES,
  });
  alice = agentClient(engine.url, ALICE);
  bob = agentClient(engine.url, BOB);
  FINE.py = await registered(pythonGraph(`return {"out": "fine"}`));
  FINE.ts = await registered(typescriptGraph(`return { out: "fine" };`), "typescript");
  const keeper = await registered(KEEP_SECRET);
  const values = await runWait(alice, { threadId: SECRET_THREAD, body: { assistant_id: keeper, input: {} } });
  assert.equal(values["out"], SECRET);
});
after(async () => {
  await engine?.close();
  await llm?.close();
});

const newThread = (): string => crypto.randomUUID();

/** Registers a program for Alice (or `key`) under a fresh graph id; returns the id. */
async function registered(
  code: string,
  language: "python" | "typescript" = "python",
  client: AgentClient = alice,
): Promise<string> {
  const graphId = `g-${crypto.randomUUID().slice(0, 8)}`;
  await register(client, { graphId, code, language });
  return graphId;
}

/** The JSON a probe node put in `out`, from a wait's answer (the run's last values). */
function findings(values: Json): Json {
  assert.equal(typeof values["out"], "string", JSON.stringify(values).slice(0, 3000));
  return JSON.parse(String(values["out"])) as Json;
}

/** Ordinary programs of each runtime, Alice's. */
const FINE = { py: "", ts: "" };

/** An ordinary run of each runtime still succeeds: the engine carries on. */
async function stillServes(): Promise<void> {
  for (const graphId of [FINE.py, FINE.ts]) {
    const values = await runWait(alice, { threadId: newThread(), body: { assistant_id: graphId, input: {} } });
    assert.equal(values["out"], "fine", JSON.stringify(values).slice(0, 2000));
  }
}

/** A Python node that fills `r` (a dict) and returns it as JSON in `out`. */
const pyProbe = (body: string, preamble = ""): string =>
  pythonGraph(`import json, os\nr = {}\n${body}\nreturn {"out": json.dumps(r, default=str)}`, preamble);
/** A TypeScript node that fills `r` and returns it as JSON in `out`. */
const tsProbe = (body: string, imports = ""): string =>
  typescriptGraph(
    `const r: Record<string, unknown> = {};\n${body}\nreturn { out: JSON.stringify(r) };`,
    `${imports}\nconst attempt = async (fn: () => unknown) => { try { return ["DONE", String(await fn()).slice(0, 200)]; } catch (e: any) { return [e?.code ?? String(e).slice(0, 200)]; } };`,
  );

const PY_ERR = `
import errno
def err(e):
    return errno.errorcode.get(getattr(e, "errno", None) or 0, type(e).__name__)
def attempt(fn):
    try:
        return ["DONE", repr(fn())[:200]]
    except BaseException as e:
        return [err(e)]
`;

/** Alice's secrets, kept by a run of hers: a thread's checkpoints and a store item. */
const SECRET = `alice-secret-${crypto.randomUUID()}`;
const SECRET_THREAD = newThread();
const KEEP_SECRET = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END
from langgraph.config import get_store

class State(TypedDict, total=False):
    out: str

def keep(state):
    get_store().put(("secrets", "alice"), "the-key", {"secret": ${JSON.stringify(SECRET)}})
    return {"out": ${JSON.stringify(SECRET)}}

g = StateGraph(State)
g.add_node("keep", keep)
g.add_edge(START, "keep")
g.add_edge("keep", END)
graph = g.compile()
`;

/** What a probe found must hold none of these: Alice's secret, the provider keys. */
function assertNothingLeaked(what: unknown, also: string[] = []): void {
  const text = JSON.stringify(what);
  for (const needle of [SECRET, OPENAI_KEY, ANTHROPIC_KEY, ...also])
    assert.ok(!text.includes(needle), `${needle} reached the program: ${text.slice(0, 3000)}`);
}

describe("escapes through a run", () => {
  test("Python, waited for: the engine's files, host files, the network but the gateway, other threads' checkpoints, the provider keys", async () => {
    const enginePort = Number(new URL(engine.url).port);
    const gatewayPort = Number(new URL(engine.app.engine.gateway.url).port);
    const hostAddresses = Object.values(networkInterfaces()).flatMap((list) =>
      (list ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address),
    );
    const targets: [string, number][] = [
      ["1.1.1.1", 443],
      ["127.0.0.1", enginePort],
      ...hostAddresses.map((address): [string, number] => [address, enginePort]),
    ];
    const files = [
      `${PROJECT_ROOT}/package.json`,
      `${PROJECT_ROOT}/src/server.ts`,
      engine.app.engine.config.dataDir,
      `${engine.app.engine.config.dataDir}/graphbox.db`,
      "/etc/shadow",
      "/proc/1/root/etc/shadow",
    ];
    const graphId = await registered(
      pyProbe(
        `import glob, socket, urllib.request, urllib.error
for p in ${JSON.stringify(files)}:
    r[p] = attempt(lambda: open(p).read(80))
r["ls root"] = attempt(lambda: os.listdir(${JSON.stringify(PROJECT_ROOT)}))
r["ls /opt/graphbox"] = sorted(os.listdir("/opt/graphbox"))
for host, port in ${JSON.stringify(targets)}:
    s = socket.socket()
    s.settimeout(3)
    r[f"{host}:{port}"] = attempt(lambda: s.connect((host, port)))
    s.close()
r["dns"] = attempt(lambda: socket.getaddrinfo("example.com", 443))
try:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:${gatewayPort}/openai/v1/models", headers={"authorization": "Bearer stolen"}), timeout=5)
    r["gateway without credential"] = "ANSWERED"
except urllib.error.HTTPError as e:
    r["gateway without credential"] = e.code
r["environ"] = dict(os.environ)
seen = []
for p in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
    try:
        seen.append(open(p, "rb").read().decode("latin-1"))
    except OSError:
        pass
for top in ["/tmp", "/etc", "/run", "/dev/shm", "/opt/graphbox/python/harness"]:
    for root, dirs, names in os.walk(top):
        for name in names:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    seen.append(f.read(2_000_000).decode("latin-1"))
            except OSError:
                pass
r["seen"] = seen
# Another thread's checkpoints through the engine's checkpointer: it answers for this run's thread only.
saver = app.checkpointer
other = {"configurable": {"thread_id": ${JSON.stringify(SECRET_THREAD)}, "checkpoint_ns": ""}}
r["other tuple"] = attempt(lambda: saver.get_tuple(other))
r["other list"] = attempt(lambda: [c.checkpoint for c in saver.list(other)])
r["other thread id"] = attempt(lambda: saver.get_tuple(other).config["configurable"]["thread_id"])`,
        PY_ERR,
      ),
    );
    const threadId = newThread();
    const values = await runWait(alice, { threadId, body: { assistant_id: graphId, input: {} } });
    const r = findings(values);
    for (const file of files) assert.notEqual((r[file] as string[])[0], "DONE", `${file}: ${JSON.stringify(r[file])}`);
    assert.deepEqual(r["ls root"], ["ENOENT"]);
    assert.deepEqual(r["ls /opt/graphbox"], ["python"]);
    for (const [host, port] of targets)
      assert.notEqual((r[`${host}:${port}`] as string[])[0], "DONE", `${host}:${port}`);
    assert.notEqual((r["dns"] as string[])[0], "DONE");
    assert.equal(r["gateway without credential"], 401);
    assert.ok(
      !Object.keys(r["environ"] as Json).some((name) => /^(GRAPHBOX_(?!GATEWAY)|NODE_|npm_|SUDO|SSH)/.test(name)),
      Object.keys(r["environ"] as Json).join(" "),
    );
    // The engine's checkpointer answers for this run's thread only: asking for another is refused.
    for (const key of ["other tuple", "other list"]) assert.deepEqual(r[key], ["EngineRequestError"], key);
    assertNothingLeaked(values);
    await stillServes();
  });

  test("TypeScript, streamed: the same escapes fail", async () => {
    const enginePort = Number(new URL(engine.url).port);
    const graphId = await registered(
      tsProbe(
        `r.files = await Promise.all(${JSON.stringify([`${PROJECT_ROOT}/package.json`, `${engine.app.engine.config.dataDir}/graphbox.db`, "/etc/shadow"])}.map((p) => attempt(() => readFileSync(p, "utf8").slice(0, 80))));
r.root = await attempt(() => readdirSync(${JSON.stringify(PROJECT_ROOT)}));
const tryConnect = (host: string, p: number) => new Promise((resolve) => { const s = connect({ host, port: p }); s.setTimeout(2000); s.on("connect", () => { s.destroy(); resolve("CONNECTED"); }); s.on("error", (e: any) => resolve(e.code)); s.on("timeout", () => { s.destroy(); resolve("TIMEOUT"); }); });
r.outside = await tryConnect("1.1.1.1", 443);
r.engine = await tryConnect("127.0.0.1", ${enginePort});
r.env = process.env;
r.proc = readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).map((p) => { try { return readFileSync(\`/proc/\${p}/environ\`, "latin1") + readFileSync(\`/proc/\${p}/cmdline\`, "latin1"); } catch { return ""; } });
const saver = (app as any).checkpointer;
const other = { configurable: { thread_id: ${JSON.stringify(SECRET_THREAD)}, checkpoint_ns: "" } };
r.otherTuple = await attempt(async () => JSON.stringify(await saver.getTuple(other)));
const listed: unknown[] = [];
r.otherList = await attempt(async () => { for await (const t of saver.list(other)) listed.push(t.checkpoint); return JSON.stringify(listed); });`,
        `import { readFileSync, readdirSync } from "node:fs";\nimport { connect } from "node:net";`,
      ),
      "typescript",
    );
    const threadId = newThread();
    const { events, runId } = await runStream(alice, {
      threadId,
      body: { assistant_id: graphId, input: {}, stream_mode: ["values", "updates"] },
    });
    assert.equal(
      events.some((e) => e.event === "error"),
      false,
      JSON.stringify(events.at(-1)),
    );
    const last = events.filter((e) => e.event === "values").at(-1)!;
    const r = findings(last.data);
    for (const file of r["files"] as string[][]) assert.notEqual(file[0], "DONE", JSON.stringify(file));
    assert.deepEqual(r["root"], ["ENOENT"]);
    assert.notEqual(r["outside"], "CONNECTED");
    assert.notEqual(r["engine"], "CONNECTED");
    for (const key of ["otherTuple", "otherList"])
      assert.match(String((r[key] as string[])[0]), /may only use its own thread/, key);
    assertNothingLeaked(events);
    assert.equal((await runRecord(alice, threadId, runId))["status"], "success");
    await stillServes();
  });
});

/** A limit case: the node body, the run's config, what the run must end with. */
interface LimitCase {
  name: string;
  language: "python" | "typescript";
  body: string;
  config?: Json;
  errorType: string;
  message: RegExp;
  /** The run's final status: `timeout` for the deadline, as LangGraph's runs; else `error`. */
  status?: string;
  marker?: string;
}

const SLEEPER = `graphbox-agent-sleeper-${crypto.randomUUID()}`;
const LIMITS: LimitCase[] = [
  {
    name: "a memory bomb",
    language: "python",
    body: `hoard = []\nwhile True:\n    hoard.append(b"\\x01" * (32 * 1024 * 1024))`,
    config: { timeout_ms: 30_000 },
    errorType: "memory_limit",
    message: /512 MiB/,
  },
  {
    name: "a memory bomb",
    language: "typescript",
    body: `const hoard: Buffer[] = [];\nfor (;;) hoard.push(Buffer.alloc(32 * 1024 * 1024, 1));`,
    config: { timeout_ms: 30_000 },
    errorType: "memory_limit",
    message: /512 MiB/,
  },
  {
    name: "a fork bomb",
    language: "python",
    body: `import os\nwhile True:\n    os.fork()`,
    config: { timeout_ms: 30_000 },
    errorType: "resource_limit",
    message: /more than 64 processes/,
  },
  {
    name: "a fork bomb",
    language: "typescript",
    body: `const { spawn } = await import("node:child_process");\nfor (;;) { try { spawn("/bin/sh", ["-c", "sleep 30"], { stdio: "ignore" }); } catch {} await new Promise((r) => setImmediate(r)); }`,
    config: { timeout_ms: 20_000 },
    errorType: "resource_limit",
    message: /more than 64 processes/,
  },
  {
    name: "a CPU loop",
    language: "python",
    body: `while True:\n    pass`,
    config: { timeout_ms: 2000 },
    errorType: "timeout",
    message: /2000 ms/,
    status: "timeout",
  },
  {
    name: "a sleep past the deadline, with a child left running",
    language: "typescript",
    body: `const { spawn } = await import("node:child_process");\nspawn("/bin/sh", ["-c", "sleep 1000; : ${SLEEPER}"], { stdio: "ignore" });\nawait new Promise((r) => setTimeout(r, 1_000_000));\nreturn {};`,
    config: { timeout_ms: 1500 },
    errorType: "timeout",
    message: /1500 ms/,
    status: "timeout",
    marker: SLEEPER,
  },
  {
    name: "an event flood",
    language: "python",
    body: `from langgraph.config import get_stream_writer\nw = get_stream_writer()\nfor i in range(100000):\n    w({"i": i})\nreturn {}`,
    errorType: "output_limit",
    message: /GRAPHBOX_MAX_EVENTS \(300\)/,
  },
  {
    name: "an event flood",
    language: "typescript",
    body: `for (let i = 0; i < 100000; i++) (config as any).writer({ i });\nreturn {};`,
    errorType: "output_limit",
    message: /GRAPHBOX_MAX_EVENTS \(300\)/,
  },
  {
    name: "a 1 GB state",
    language: "python",
    body: `return {"out": "x" * (1024 ** 3)}`,
    config: { timeout_ms: 60_000 },
    errorType: "output_limit|memory_limit",
    message: /GRAPHBOX_MAX_OUTPUT_BYTES|output is over the limit|512 MiB/,
  },
  {
    name: "a state over GRAPHBOX_MAX_OUTPUT_BYTES",
    language: "typescript",
    body: `return { out: "x".repeat(8 * 1024 * 1024) };`,
    errorType: "output_limit",
    message: /over the limit|GRAPHBOX_MAX_OUTPUT_BYTES/,
  },
  {
    name: "LLM calls past the run's token budget",
    language: "python",
    body: `from langchain_openai import ChatOpenAI\ngpt = ChatOpenAI(model="gpt-4o-mini", max_retries=0)\nfor i in range(5):\n    gpt.invoke("count me " * 20)\nreturn {}`,
    config: { max_tokens: 30 },
    errorType: "token_budget",
    message: /token budget of 30 tokens/,
  },
  {
    name: "LLM calls past the run's token budget",
    language: "typescript",
    body: `const { ChatOpenAI } = await import("@langchain/openai");\nconst gpt = new ChatOpenAI({ model: "gpt-4o-mini", maxRetries: 0 });\nfor (let i = 0; i < 5; i++) await gpt.invoke("count me ".repeat(20));\nreturn {};`,
    config: { max_tokens: 30 },
    errorType: "token_budget",
    message: /token budget of 30 tokens/,
  },
];

const limitProgram = (c: LimitCase): string =>
  c.language === "python"
    ? pythonGraph(c.body)
    : typescriptGraph(c.body).replace(
        "async function work(state: typeof State.State)",
        "async function work(state: typeof State.State, config: unknown)",
      );

describe("limits end the run with an error; the engine and other runs carry on", () => {
  for (const c of LIMITS)
    test(`${c.language}: ${c.name} ends as ${c.errorType}, streamed and joined`, async () => {
      const graphId = await registered(limitProgram(c), c.language);
      const body = { assistant_id: graphId, input: {}, config: c.config ?? {}, stream_mode: ["values", "custom"] };
      const expectedType = new RegExp(`^(${c.errorType})$`);
      // A bystander on another thread runs meanwhile and is not disturbed.
      const bystander = runWait(alice, {
        threadId: newThread(),
        body: { assistant_id: FINE.py, input: {} },
      });

      const threadId = newThread();
      const { events, runId } = await runStream(alice, { threadId, body });
      const error = events.at(-1)!;
      assert.equal(error.event, "error", JSON.stringify(events.slice(-3)).slice(0, 2000));
      assert.match(String(error.data["error"]), expectedType, JSON.stringify(error.data).slice(0, 1000));
      assert.match(String(error.data["message"]), c.message);
      assert.ok(events.length <= MAX_EVENTS + 2, `${events.length} events streamed`);
      assert.equal((await runRecord(alice, threadId, runId))["status"], c.status ?? "error");
      const thread = ok(await alice.call("GET", `/threads/${threadId}`));
      assert.equal(thread["status"], "error");
      if (c.marker) assert.deepEqual(await survivors(c.marker), []);

      // The same in the background, joined: LangGraph's `__error__` with the error event's JSON.
      const joined = await runJoined(alice, { threadId: newThread(), body });
      const failure = joined["__error__"] as Json | undefined;
      assert.ok(failure, JSON.stringify(joined).slice(0, 1000));
      assert.match(String(failure["error"]), expectedType);
      assert.match(String(JSON.parse(String(failure["message"]))["message"]), c.message);

      await bystander;
      await stillServes();
    });

  test("a memory bomb waited for, next to ten ordinary runs on other threads: they all succeed", async () => {
    const bomb = await registered(limitProgram(LIMITS[0]!));
    const fine = FINE.py;
    const answers = await Promise.all([
      runWait(alice, {
        threadId: newThread(),
        body: { assistant_id: bomb, input: {}, config: { timeout_ms: 30_000 } },
      }),
      ...Array.from({ length: 10 }, (_, i) =>
        runWait(alice, {
          threadId: newThread(),
          body: { assistant_id: i % 2 === 0 ? fine : FINE.ts, input: {} },
        }),
      ),
    ]);
    assert.equal((answers[0]!["__error__"] as Json)["error"], "memory_limit", JSON.stringify(answers[0]));
    for (const answer of answers.slice(1)) assert.equal(answer["out"], "fine", JSON.stringify(answer));
  });

  test("a stdout flood is cut in the run's execution record; the run succeeds", async () => {
    const graphId = await registered(
      pythonGraph(
        `import sys\nline = "x" * 1023 + "\\n"\nfor i in range(32 * 1024):\n    sys.stdout.write(line)\nreturn {"out": "done"}`,
      ),
    );
    const threadId = newThread();
    const { events, runId } = await runStream(alice, { threadId, body: { assistant_id: graphId, input: {} } });
    assert.equal(events.at(-1)!.event, "values");
    const execution = ok(await alice.call("GET", `/executions/${runId}`));
    // The run's execution record: the outcome of /execute-langgraph, its prints in its metadata.
    const outcome = execution["result"] as { result: { metadata: { logs: string } } };
    const logs = outcome.result.metadata.logs;
    assert.ok(logs.length < 70_000, `logs are ${logs.length} characters`);
    assert.match(logs, /\[graphbox: \d+ more bytes of output dropped\]$/);
  });
});

/** Python: a raw frame writer on the harness's own channel (the program runs in the harness's process). */
const PY_RAW = `
import gc, json, os, struct
from graphbox_harness.protocol import Channel

def send_raw(message):
    fd = next(o for o in gc.get_objects() if isinstance(o, Channel))._fd
    data = (message if isinstance(message, str) else json.dumps(message)).encode()
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]
`;

/** TypeScript: the harness's channel is fd 3. */
const TS_RAW = `import { writeSync } from "node:fs";
function sendRaw(message: unknown): void {
  const payload = Buffer.from(JSON.stringify(message), "utf8");
  const frame = Buffer.alloc(4 + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  payload.copy(frame, 4);
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += writeSync(3, frame, offset);
    } catch (err) {
      if ((err as { code?: string }).code !== "EAGAIN") throw err;
    }
  }
}`;

const pyRaw = (body: string): string => pythonOneNode({ body, preamble: PY_RAW });
const tsRaw = (body: string): string => typescriptGraph(body, TS_RAW);

/** A stream's raw text, each frame checked: `event:`, `data:` and `id:` lines only, one of each, the name printable ASCII. */
async function rawFrames(threadId: string, body: Json): Promise<{ event: string; data: unknown }[]> {
  const response = await fetch(`${engine.url}/threads/${threadId}/runs/stream`, {
    method: "POST",
    headers: { "x-api-key": ALICE, "content-type": "application/json" },
    body: JSON.stringify({ if_not_exists: "create", ...body }),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.ok(!text.includes("\r"), "no CR anywhere in the stream");
  const frames: { event: string; data: unknown }[] = [];
  for (const block of text.split("\n\n").filter((b) => b.trim() !== "" && !b.startsWith(":"))) {
    const lines = block.split("\n");
    assert.deepEqual(
      lines.map((l) => l.slice(0, l.indexOf(":"))).sort(),
      ["data", "event", "id"],
      `a frame of three lines: ${JSON.stringify(block).slice(0, 500)}`,
    );
    const event = lines.find((l) => l.startsWith("event: "))!.slice(7);
    assert.match(event, /^[\x21-\x7e]+$/, `event name ${JSON.stringify(event)}`);
    frames.push({ event, data: JSON.parse(lines.find((l) => l.startsWith("data: "))!.slice(6)) });
  }
  return frames;
}

describe("the Agent API's own surfaces, written by the program", () => {
  test("forged chunks: an unknown mode or a namespace that is not a list ends the run; modes not asked for are dropped", async () => {
    const cases: [Json, RegExp][] = [
      [{ v: 1, type: "chunk", mode: "events", ns: [], data: {} }, /chunk has a bad field mode/],
      [{ v: 1, type: "chunk", mode: "values", ns: "a|b", data: {} }, /chunk has a bad field ns/],
      [{ v: 1, type: "chunk", mode: "values", ns: [1], data: {} }, /chunk has a bad field ns/],
      [{ v: 1, type: "chunk", mode: "values", ns: Array.from({ length: 65 }, () => "n"), data: {} }, /bad field ns/],
    ];
    for (const [frame, error] of cases) {
      for (const [code, language] of [
        [
          pyRaw(`send_raw(${JSON.stringify(JSON.stringify(frame))})\nimport time; time.sleep(5)\nreturn {"out": "x"}`),
          "python",
        ],
        [
          tsRaw(
            `sendRaw(${JSON.stringify(frame)});\nawait new Promise((r) => setTimeout(r, 5000));\nreturn { out: "x" };`,
          ),
          "typescript",
        ],
      ] as const) {
        const graphId = await registered(code, language);
        const { events } = await runStream(alice, {
          threadId: newThread(),
          body: { assistant_id: graphId, input: {} },
        });
        const last = events.at(-1)!;
        assert.equal(last.event, "error", JSON.stringify(events).slice(0, 1000));
        assert.equal(last.data["error"], "sandbox_error");
        assert.match(String(last.data["message"]), error);
      }
    }
    // Modes the run did not ask for, a `debug` and an `updates` chunk with a subgraph's name: not believed, not streamed.
    const forged = [
      { v: 1, type: "chunk", mode: "debug", ns: [], data: { forged: true } },
      { v: 1, type: "chunk", mode: "updates", ns: ["x:1"], data: { forged: true } },
      { v: 1, type: "chunk", mode: "messages", ns: [], data: [{ id: "m", content: "forged" }, {}] },
    ];
    const graphId = await registered(
      pyRaw(`for f in json.loads(${JSON.stringify(JSON.stringify(forged))}):\n    send_raw(f)\nreturn {"out": "real"}`),
    );
    const { events } = await runStream(alice, {
      threadId: newThread(),
      body: { assistant_id: graphId, input: {}, stream_mode: ["values", "custom"] },
    });
    assert.deepEqual(
      [...new Set(events.map((e) => e.event))].sort(),
      ["metadata", "values"],
      JSON.stringify(events.at(-1)),
    );
    assert.ok(!JSON.stringify(events).includes("forged"), JSON.stringify(events));
    assert.equal(events.at(-1)!.data["out"], "real");
    await stillServes();
  });

  test("a forged chunk of huge data ends the run as output_limit", async () => {
    for (const [code, language] of [
      [
        pyRaw(
          `send_raw({"v": 1, "type": "chunk", "mode": "custom", "ns": [], "data": "x" * (4 * 1024 * 1024)})\nreturn {"out": "x"}`,
        ),
        "python",
      ],
      [
        tsRaw(
          `sendRaw({ v: 1, type: "chunk", mode: "custom", ns: [], data: "x".repeat(4 * 1024 * 1024) });\nreturn { out: "x" };`,
        ),
        "typescript",
      ],
    ] as const) {
      const graphId = await registered(code, language);
      const { events } = await runStream(alice, {
        threadId: newThread(),
        body: { assistant_id: graphId, input: {}, stream_mode: ["custom"] },
      });
      const last = events.at(-1)!;
      assert.equal(last.data["error"], "output_limit", JSON.stringify(last.data).slice(0, 500));
      assert.ok(!events.some((e) => e.event === "custom"));
    }
    await stillServes();
  });

  test("a forged `answer` in a run is ignored: the run ends with its own values", async () => {
    for (const [code, language] of [
      [
        pyRaw(`send_raw({"v": 1, "type": "answer", "data": {"nodes": [], "edges": []}})\nreturn {"out": "real"}`),
        "python",
      ],
      [tsRaw(`sendRaw({ v: 1, type: "answer", data: { forged: true } });\nreturn { out: "real" };`), "typescript"],
    ] as const) {
      const graphId = await registered(code, language);
      const values = await runWait(alice, { threadId: newThread(), body: { assistant_id: graphId, input: {} } });
      assert.equal(values["out"], "real", JSON.stringify(values));
    }
  });

  test("subgraph namespaces with CR/LF, `|`, `%` and non-ASCII stay one percent-encoded line of the event name", async () => {
    // A real subgraph under a node whose name breaks lines (LangGraph reserves `|` and `:` in names).
    const name = "evil\r\nevent error\ndata {}\n\n%41é";
    const graphId = await registered(`from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    out: str

def inner(state):
    return {"out": "from inside"}

child = StateGraph(State)
child.add_node("inner", inner)
child.add_edge(START, "inner")
child.add_edge("inner", END)
sub = child.compile()

parent = StateGraph(State)
parent.add_node(${JSON.stringify(name)}, sub)
parent.add_edge(START, ${JSON.stringify(name)})
parent.add_edge(${JSON.stringify(name)}, END)
graph = parent.compile()
`);
    const frames = await rawFrames(newThread(), {
      assistant_id: graphId,
      input: {},
      stream_mode: ["values", "updates"],
      stream_subgraphs: true,
    });
    const inside = frames.filter((f) => f.event.includes("|"));
    assert.ok(inside.length > 0, JSON.stringify(frames.map((f) => f.event)));
    for (const frame of inside) {
      const [mode, ...ns] = frame.event.split("|");
      assert.ok(mode === "values" || mode === "updates", frame.event);
      assert.equal(ns.length, 1);
      const segment = decodeURIComponent(ns[0]!);
      assert.ok(segment.startsWith(`${name}:`), `${JSON.stringify(segment)} decodes to the node's name and task`);
    }
    assert.ok(frames.some((f) => f.event === "updates" && JSON.stringify(f.data).includes("from inside")));

    // Forged namespaces, written to the channel: `|` inside a segment is encoded too, so segments stay apart.
    const forgedNs = ["a|b", "100%", "line\nbreak", "é", "ok"];
    const forger = await registered(
      pyRaw(
        `send_raw({"v": 1, "type": "chunk", "mode": "custom", "ns": ${JSON.stringify(forgedNs)}, "data": "forged"})\nreturn {"out": "x"}`,
      ),
    );
    const forgedFrames = await rawFrames(newThread(), {
      assistant_id: forger,
      input: {},
      stream_mode: ["custom", "values"],
      stream_subgraphs: true,
    });
    const custom = forgedFrames.find((f) => f.event.startsWith("custom|"));
    assert.ok(custom, JSON.stringify(forgedFrames.map((f) => f.event)));
    assert.deepEqual(custom.event.split("|").slice(1).map(decodeURIComponent), forgedNs);
    await stillServes();
  });

  test("__proto__ and constructor as state keys, a node's name and an update's keys stay data", async () => {
    const graphId = await registered(`from typing import TypedDict
from langgraph.graph import StateGraph, START, END

State = TypedDict("State", {"__proto__": dict, "constructor": str, "out": str}, total=False)

def work(state):
    return {"__proto__": {"polluted": True, "toString": 1}, "constructor": "forged", "out": "x"}

g = StateGraph(State)
g.add_node("__proto__", work)
g.add_edge(START, "__proto__")
g.add_edge("__proto__", END)
graph = g.compile()
`);
    const threadId = newThread();
    const { events } = await runStream(alice, {
      threadId,
      body: { assistant_id: graphId, input: {}, stream_mode: ["values", "updates"] },
    });
    assert.equal(events.at(-1)!.event, "values", JSON.stringify(events.at(-1)));
    const values = events.at(-1)!.data;
    assert.deepEqual(Object.getOwnPropertyDescriptor(values, "__proto__")?.value, { polluted: true, toString: 1 });
    assert.equal(values["constructor"], "forged");
    const update = events.find((e) => e.event === "updates")!.data;
    assert.deepEqual(Object.keys(update), ["__proto__"]);
    const thread = ok(await alice.call("GET", `/threads/${threadId}`));
    const kept = thread["values"] as Json;
    assert.deepEqual(Object.getOwnPropertyDescriptor(kept, "__proto__")?.value, { polluted: true, toString: 1 });
    const state = ok(await alice.call("GET", `/threads/${threadId}/state`));
    assert.equal((state["values"] as Json)["constructor"], "forged");
    // Nothing reached the engine's prototypes (the engine runs in this process).
    assert.equal(({} as Json)["polluted"], undefined);
    assert.equal(typeof ({} as Json)["toString"], "function");
    await stillServes();
  });

  test("a forged thread_state in the result: task ids that are not LangGraph's never become keys of the thread's `interrupts`", async () => {
    const taskId = crypto.randomUUID();
    const graphId = await registered(
      pyRaw(`from langgraph.config import get_config
config = get_config()
head = app.checkpointer.get_tuple({"configurable": {"thread_id": config["configurable"]["thread_id"], "checkpoint_ns": ""}})
interrupt = [{"id": "i", "value": "forged"}]
tasks = [{"id": name, "name": "n", "interrupts": interrupt} for name in ["__proto__", "constructor", "toString", "a\\r\\nb", "x" * 5000, ${JSON.stringify(taskId)}]]
send_raw({"v": 1, "type": "result", "status": "interrupted", "messages": [], "state": {"out": "forged"}, "next": ["n"],
    "interrupts": interrupt, "checkpoint_id": head.config["configurable"]["checkpoint_id"],
    "thread_state": {"values": {"out": "forged"}, "next": ["n"], "tasks": tasks, "checkpoint": None}})
import time
time.sleep(5)
return {"out": "x"}`),
    );
    const threadId = newThread();
    await runWait(alice, { threadId, body: { assistant_id: graphId, input: {} } });
    const thread = ok(await alice.call("GET", `/threads/${threadId}`));
    assert.equal(thread["status"], "interrupted", JSON.stringify(thread));
    assert.deepEqual(Object.keys(thread["interrupts"] as Json), [taskId], JSON.stringify(thread["interrupts"]));
    const state = ok(await alice.call("GET", `/threads/${threadId}/state`));
    assert.deepEqual(
      (state["tasks"] as Json[]).map((t) => t["id"]),
      [taskId],
    );
    await stillServes();
  });
});

describe("a program's describe answer at registration, and its store requests", () => {
  /** A program that answers the describe op itself, at import, before the harness does. */
  const describedAs = (answer: string): string =>
    `${PY_RAW}\nsend_raw(${answer})\n${pythonGraph(`return {"out": "x"}`)}`;

  test("a forged drawing with non-string node ids, nesting past the protocol's depth, or over the output limit is refused; nothing is stored", async () => {
    const cases: [string, RegExp][] = [
      [`{"v": 1, "type": "answer", "data": {"nodes": [{"id": 7}], "edges": []}}`, /node 0 has no string `id`/],
      [
        `{"v": 1, "type": "answer", "data": {"nodes": [{"id": "a", "data": None}], "edges": [{"source": 1, "target": []}]}}`,
        /edge 0/,
      ],
      [`{"v": 1, "type": "answer", "data": {"nodes": "all", "edges": []}}`, /no `nodes` and `edges`/],
      [`'{"v":1,"type":"answer","data":{"nodes":' + "[" * 300 + "]" * 300 + ',"edges":[]}}'`, /nested deeper than 256/],
      [
        `{"v": 1, "type": "answer", "data": {"nodes": [{"id": "n%d" % i, "data": "x" * 100} for i in range(40000)], "edges": []}}`,
        /GRAPHBOX_MAX_OUTPUT_BYTES|over the limit/,
      ],
    ];
    for (const [answer, error] of cases) {
      const graphId = `forged-${crypto.randomUUID().slice(0, 8)}`;
      const refused = await alice.call("PUT", `/graphs/${graphId}`, {
        body: { code: describedAs(answer), language: "python" },
      });
      assert.equal(refused.status, 422, JSON.stringify(refused.body).slice(0, 500));
      assert.equal((refused.body as Json)["code"], "GBX_ERR_GRAPH_INVALID");
      assert.match(String((refused.body as Json)["error"]), error);
      assert.equal((await alice.call("GET", `/graphs/${graphId}`)).status, 404);
    }
    await stillServes();
  });

  test("a forged drawing that fits is the program's own picture: odd ids and __proto__ keys come back as data", async () => {
    const nodes = `[{"id": "__proto__", "type": "runnable", "data": {"__proto__": {"polluted": True}}}, {"id": "a\\r\\nb", "type": "x"}] + [{"id": "n%d" % i} for i in range(5000)]`;
    const graphId = await registered(
      describedAs(
        `{"v": 1, "type": "answer", "data": {"nodes": ${nodes}, "edges": [{"source": "__proto__", "target": "a\\r\\nb", "conditional": "yes"}], "input_schema": {"__proto__": {"x": 1}}}}`,
      ),
    );
    const drawing = ok(await alice.call("GET", `/assistants/${graphId}/graph`));
    const drawn = drawing["nodes"] as Json[];
    assert.equal(drawn.length, 5002);
    assert.equal(drawn[0]!["id"], "__proto__");
    assert.deepEqual(Object.getOwnPropertyDescriptor(drawn[0]!["data"], "__proto__")?.value, { polluted: true });
    assert.deepEqual(drawing["edges"], [{ source: "__proto__", target: "a\r\nb", conditional: false }]);
    assert.equal(({} as Json)["polluted"], undefined);
    // The program itself runs as it is: the forged picture changes nothing of its runs.
    const values = await runWait(alice, { threadId: newThread(), body: { assistant_id: graphId, input: {} } });
    assert.equal(values["out"], "x");
  });

  test("forged store requests end the run as sandbox_error; a refused one is the program's exception", async () => {
    for (const [code, language] of [
      [
        pythonGraph(
          `from langgraph.config import get_store\nget_store()._call("get", namespace="not-a-list", key=1)\nreturn {"out": "x"}`,
        ),
        "python",
      ],
      [
        tsRaw(
          `sendRaw({ v: 1, type: "store", request_id: 424242, op: "put", args: { namespace: ["a"], key: "k", value: 1, owner: "alice" } });\nawait new Promise((r) => setTimeout(r, 5000));\nreturn { out: "x" };`,
        ),
        "typescript",
      ],
    ] as const) {
      const graphId = await registered(code, language);
      const { events } = await runStream(alice, { threadId: newThread(), body: { assistant_id: graphId, input: {} } });
      const last = events.at(-1)!;
      assert.equal(last.event, "error", JSON.stringify(last));
      assert.equal(last.data["error"], "sandbox_error");
      assert.match(String(last.data["message"]), /forged store request/);
    }
    const graphId = await registered(
      pyProbe(
        `from langgraph.config import get_store
store = get_store()
r["too big"] = attempt(lambda: store.put(("a",), "k", {"x": "y" * (128 * 1024)}))
r["empty label"] = attempt(lambda: store.put(("",), "k", {"x": 1}))
r["still there"] = attempt(lambda: store.put(("a",), "k", {"x": 1}))`,
        PY_ERR,
      ),
    );
    const r = findings(await runWait(alice, { threadId: newThread(), body: { assistant_id: graphId, input: {} } }));
    assert.notEqual((r["too big"] as string[])[0], "DONE", JSON.stringify(r));
    assert.notEqual((r["empty label"] as string[])[0], "DONE", JSON.stringify(r));
    assert.equal((r["still there"] as string[])[0], "DONE", JSON.stringify(r));
    await stillServes();
  });
});

describe("each key's resources: another key gets 404 or nothing", () => {
  test("graphs, assistants, threads, runs and store items of Alice's are not Bob's", async () => {
    const graphId = await registered(pythonGraph(`return {"out": "alice's"}`));
    const assistant = ok(
      await alice.call("POST", "/assistants", {
        body: { graph_id: graphId, name: "alice's", metadata: { who: "alice" } },
      }),
    );
    const assistantId = String(assistant["assistant_id"]);
    const threadId = newThread();
    const run = ok(
      await alice.call("POST", `/threads/${threadId}/runs`, {
        body: { assistant_id: assistantId, input: {}, if_not_exists: "create" },
      }),
    );
    const runId = String(run["run_id"]);
    ok(await alice.call("GET", `/threads/${threadId}/runs/${runId}/join`));
    const found = [
      ["GET", `/graphs/${graphId}`],
      ["DELETE", `/graphs/${graphId}`],
      ["GET", `/assistants/${assistantId}`],
      ["GET", `/assistants/${graphId}`],
      ["PATCH", `/assistants/${assistantId}`, { metadata: { who: "bob" } }],
      ["GET", `/assistants/${assistantId}/graph`],
      ["GET", `/assistants/${assistantId}/schemas`],
      ["POST", `/assistants/${assistantId}/versions`, {}],
      ["DELETE", `/assistants/${assistantId}`],
      ["GET", `/threads/${threadId}`],
      ["PATCH", `/threads/${threadId}`, { metadata: { who: "bob" } }],
      ["GET", `/threads/${threadId}/state`],
      ["POST", `/threads/${threadId}/state`, { values: { out: "bob's" } }],
      ["POST", `/threads/${threadId}/history`, { limit: 10 }],
      ["GET", `/threads/${threadId}/runs`],
      ["GET", `/threads/${threadId}/runs/${runId}`],
      ["GET", `/threads/${threadId}/runs/${runId}/join`],
      ["GET", `/threads/${threadId}/runs/${runId}/stream`],
      ["POST", `/threads/${threadId}/runs/${runId}/cancel`],
      ["DELETE", `/threads/${threadId}/runs/${runId}`],
      ["POST", `/threads/${threadId}/runs/wait`, { assistant_id: graphId, input: {} }],
      ["GET", `/executions/${runId}`],
      ["DELETE", `/threads/${threadId}`],
    ] as const;
    for (const [method, path, body] of found) {
      const answer = await bob.call(method, path, body === undefined ? {} : { body });
      assert.equal(
        answer.status,
        404,
        `${method} ${path}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`,
      );
    }
    // Bob's own runs cannot name Alice's graph or assistant.
    for (const assistant_id of [graphId, assistantId]) {
      const answer = await bob.call("POST", `/threads/${newThread()}/runs/wait`, {
        body: { assistant_id, input: {}, if_not_exists: "create" },
      });
      assert.equal(answer.status, 404, JSON.stringify(answer.body));
      assert.equal((await bob.call("POST", "/runs/wait", { body: { assistant_id, input: {} } })).status, 404);
    }
    // Searches and lists find none of Alice's.
    const bobGraphs = ok(await bob.call("GET", "/graphs")) as unknown as Json[];
    assert.ok(!bobGraphs.some((g) => g["graph_id"] === graphId));
    assert.deepEqual(ok(await bob.call("POST", "/assistants/search", { body: { graph_id: graphId } })), []);
    assert.deepEqual(ok(await bob.call("POST", "/assistants/search", { body: { metadata: { who: "alice" } } })), []);
    assert.deepEqual(
      ok(await bob.call("POST", "/threads/search", { body: { metadata: { graph_id: graphId }, limit: 100 } })),
      [],
    );
    assert.deepEqual(ok(await bob.call("POST", "/threads/search", { body: { ids: [threadId, SECRET_THREAD] } })), []);
    // Store items: a missing item is LangGraph's 200 null; searches and namespaces find nothing; a delete leaves Alice's.
    const item = await bob.call("GET", "/store/items?namespace=secrets.alice&key=the-key");
    assert.equal(item.status, 200);
    assert.equal(item.body, null);
    assert.deepEqual(ok(await bob.call("POST", "/store/items/search", { body: { namespace_prefix: ["secrets"] } })), {
      items: [],
    });
    assert.deepEqual(ok(await bob.call("POST", "/store/namespaces", { body: {} })), { namespaces: [] });
    await bob.call("DELETE", "/store/items", { body: { namespace: ["secrets", "alice"], key: "the-key" } });
    const kept = ok(await alice.call("GET", "/store/items?namespace=secrets.alice&key=the-key"));
    assert.equal((kept["value"] as Json)["secret"], SECRET);

    // Alice's things are as they were.
    assert.equal(ok(await alice.call("GET", `/assistants/${assistantId}`))["name"], "alice's");
    assert.equal(ok(await alice.call("GET", `/threads/${threadId}/runs/${runId}`))["status"], "success");
    assert.equal((ok(await alice.call("GET", `/threads/${threadId}`))["values"] as Json)["out"], "alice's");
    assert.equal(ok(await alice.call("GET", `/graphs/${graphId}`))["version"], 1);
  });

  test("a run of Bob's own program finds none of Alice's store items, checkpoints or threads", async () => {
    for (const [code, language] of [
      [
        pyProbe(
          `from langgraph.config import get_store
store = get_store()
r["get"] = attempt(lambda: store.get(("secrets", "alice"), "the-key"))
r["search"] = attempt(lambda: store.search(("secrets",)))
r["search all"] = attempt(lambda: store.search(()))
r["namespaces"] = attempt(lambda: store.list_namespaces())
other = {"configurable": {"thread_id": ${JSON.stringify(SECRET_THREAD)}, "checkpoint_ns": ""}}
r["tuple"] = attempt(lambda: app.checkpointer.get_tuple(other))`,
          PY_ERR,
        ),
        "python",
      ],
      [
        tsProbe(
          `const store = (config as any).store;
r.get = await attempt(async () => JSON.stringify(await store.get(["secrets", "alice"], "the-key")));
r.search = await attempt(async () => JSON.stringify(await store.search(["secrets"])));
// LangGraph.js's AsyncBatchedStore (config.store) has no listNamespaces: asked of the engine's store itself.
r.namespaces = await attempt(async () => JSON.stringify(await (app as any).store.listNamespaces()));
r.tuple = await attempt(async () => JSON.stringify(await (app as any).checkpointer.getTuple({ configurable: { thread_id: ${JSON.stringify(SECRET_THREAD)}, checkpoint_ns: "" } })));`,
        ).replace(
          "async function work(state: typeof State.State)",
          "async function work(state: typeof State.State, config: unknown)",
        ),
        "typescript",
      ],
    ] as const) {
      const graphId = await registered(code, language, bob);
      // On a thread of the same id as Alice's secret thread: Bob's own, empty.
      const values = await runWait(bob, { threadId: SECRET_THREAD, body: { assistant_id: graphId, input: {} } });
      const r = findings(values);
      assertNothingLeaked(values);
      if (language === "python") {
        assert.deepEqual(r["get"], ["DONE", "None"]);
        assert.deepEqual(r["search"], ["DONE", "[]"]);
        assert.deepEqual(r["namespaces"], ["DONE", "[]"]);
      } else {
        assert.deepEqual(r["get"], ["DONE", "null"]);
        assert.deepEqual(r["search"], ["DONE", "[]"]);
        assert.deepEqual(r["namespaces"], ["DONE", "[]"]);
      }
      await bob.call("DELETE", `/threads/${SECRET_THREAD}`);
    }
    // Alice's thread of that id is untouched.
    const thread = ok(await alice.call("GET", `/threads/${SECRET_THREAD}`));
    assert.equal((thread["values"] as Json)["out"], SECRET);
  });
});
