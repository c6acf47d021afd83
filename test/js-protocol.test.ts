/**
 * The JavaScript harness's side of the protocol: this test plays the engine on fd 3 with the
 * engine's own framing and parser, so every frame the harness sends must pass them.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { test } from "node:test";

import { encodeFrame, FrameDecoder } from "../src/protocol/framing.ts";
import { parseHarnessMessage, type CheckpointRequest, type HarnessMessage, type JobMessage } from "../src/protocol/messages.ts";
import { jsLaunchSpec } from "../src/runtimes/js/launch.ts";

type Json = Record<string, unknown>;

interface Session {
  messages: HarnessMessage[];
  exitCode: number | null;
  logs: string;
}

/** Answers checkpoint requests from memory, like the engine's store on one thread. */
function memoryStore(refuse: CheckpointRequest["op"] | null) {
  const rows: Json[] = [];
  const writes: Json[] = [];
  const wire = (row: Json) => ({ ...row, writes: writes.filter((w) => w["checkpoint_id"] === row["checkpoint_id"]) });
  return (request: CheckpointRequest): { ok: boolean; value?: unknown; error?: string } => {
    const a = request.args;
    if (request.op === refuse) return { ok: false, error: "this execution may only use its own thread" };
    switch (request.op) {
      case "put":
        rows.push({ ...a });
        return { ok: true, value: null };
      case "put_writes":
        for (const w of a["writes"] as Json[]) writes.push({ checkpoint_id: a["checkpoint_id"], task_id: a["task_id"], channel: w["channel"], type: w["type"], value: w["value"] });
        return { ok: true, value: null };
      case "get_tuple": {
        const matching = rows.filter((r) => !a["checkpoint_id"] || r["checkpoint_id"] === a["checkpoint_id"]);
        const row = matching.sort((x, y) => String(y["checkpoint_id"]).localeCompare(String(x["checkpoint_id"])))[0];
        return { ok: true, value: row ? wire(row) : null };
      }
      case "list":
        return { ok: true, value: [...rows].reverse().map(wire) };
    }
  };
}

/** Starts the harness as the engine would (without a sandbox), sends `job` after `ready`, collects everything. */
function session(job: Partial<JobMessage> | null, options: { refuse?: CheckpointRequest["op"] } = {}): Promise<Session> {
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-js-protocol-"));
  const spec = jsLaunchSpec(workDir, { PATH: "/usr/bin:/bin", HOME: workDir, TMPDIR: workDir }, 512);
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const channel = child.stdio[3] as Readable & Writable;
  const decoder = new FrameDecoder(16 * 1024 * 1024);
  const answer = memoryStore(options.refuse ?? null);
  const messages: HarnessMessage[] = [];
  let logs = "";
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  channel.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const message = parseHarnessMessage(frame);
      messages.push(message);
      if (message.type === "ready") {
        if (job === null) channel.end();
        else channel.write(encodeFrame({ ...JOB, ...job }));
      } else if (message.type === "checkpoint") {
        channel.write(encodeFrame({ v: 1, type: "response", request_id: message.request_id, ...answer(message) }));
      }
    }
  });
  channel.on("error", () => undefined);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      rmSync(workDir, { recursive: true, force: true });
      resolve({ messages, exitCode: code, logs });
    });
  });
}

const JOB: JobMessage = {
  v: 1,
  type: "job",
  execution_id: "e-1",
  thread_id: "t-1",
  language: "typescript",
  code: "",
  inputs: {},
  resume: null,
  stream: false,
  debug: false,
  env: {},
  config: { recursion_limit: 25, configurable: {}, interrupt_before: [], interrupt_after: [], checkpoint_id: null },
};

const PROGRAM = `import { StateGraph, START, END, Annotation, type LangGraphRunnableConfig } from "@langchain/langgraph";
const State = Annotation.Root({ n: Annotation<number>(), log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }) });
export const app = new StateGraph(State)
  .addNode("one", (s: typeof State.State, config: LangGraphRunnableConfig) => {
    config.writer?.({ progress: "half" });
    return { n: s.n + 1, log: ["one"] };
  })
  .addNode("two", (s: typeof State.State) => ({ n: s.n * 10, log: ["two"] }))
  .addEdge(START, "one").addEdge("one", "two").addEdge("two", END)
  .compile();
`;

test("ready, then events, checkpoint requests and one result, every frame valid", async () => {
  const { messages, exitCode, logs } = await session({ code: PROGRAM, inputs: { n: 1 }, stream: true, debug: true });
  assert.equal(exitCode, 0, logs);
  assert.equal(logs, "");
  const ready = messages[0]!;
  assert.equal(ready.type, "ready");
  if (ready.type === "ready") {
    assert.equal(ready.runtime, "js");
    assert.equal(ready.versions["@langchain/langgraph"], "1.7.3");
  }
  const types = messages.map((m) => m.type);
  assert.equal(types.at(-1), "result");
  assert.equal(types.filter((t) => t === "result" || t === "error").length, 1);
  const nodeEvents = messages.flatMap((m) => (m.type === "node_start" || m.type === "node_end" ? [`${m.type} ${m.node} ${m.step}`] : []));
  assert.deepEqual(nodeEvents, ["node_start one 1", "node_end one 1", "node_start two 2", "node_end two 2"]);
  assert.ok(types.includes("custom") && types.includes("update") && types.includes("debug"), types.join(","));
  const ops = new Set(messages.flatMap((m) => (m.type === "checkpoint" ? [m.op] : [])));
  assert.ok(ops.has("put") && ops.has("put_writes") && ops.has("get_tuple"), [...ops].join(","));
  const result = messages.at(-1)!;
  if (result.type === "result") {
    assert.deepEqual(result.state, { n: 20, log: ["one", "two"] });
    assert.equal(typeof result.checkpoint_id, "string");
  }
});

test("a checkpoint request the engine refuses fails the run as the program's error", async () => {
  const { messages, exitCode } = await session({ code: PROGRAM, inputs: { n: 1 } }, { refuse: "put" });
  assert.equal(exitCode, 0);
  const last = messages.at(-1)!;
  assert.equal(last.type, "error");
  if (last.type === "error") {
    assert.equal(last.error_type, "program_error");
    assert.match(last.error, /EngineRequestError: this execution may only use its own thread/);
  }
});

test("an engine that closes the channel before the job ends the harness, without a hang", async () => {
  const started = Date.now();
  const { messages, exitCode, logs } = await session(null);
  assert.deepEqual(messages.map((m) => m.type), ["ready"]);
  assert.notEqual(exitCode, 0);
  assert.match(logs, /engine closed the channel/);
  assert.ok(Date.now() - started < 10_000);
});
