/**
 * The JavaScript harness answers the same from its startup snapshot as from main.mjs: each
 * program below runs both ways (unsandboxed, this test playing the engine) and every message must
 * match, once ids, timings and versions are masked.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { test } from "node:test";

import { encodeFrame, FrameDecoder } from "../src/protocol/framing.ts";
import { parseHarnessMessage, type HarnessMessage, type JobMessage } from "../src/protocol/messages.ts";
import { JS_RUNTIME_DIR, jsLaunchSpec } from "../src/runtimes/js/launch.ts";
import { snapshotProblem } from "../src/runtimes/js/snapshot/stamp.ts";
import { programSource } from "./support/corpus.ts";

type Json = Record<string, unknown>;

const HEAP_MB = 512;
const problem = snapshotProblem(HEAP_MB);
const skip = problem ? `no usable snapshot (${problem}); scripts/setup.sh builds it` : false;

const JOB: JobMessage = {
  v: 1,
  type: "job",
  execution_id: "e-1",
  thread_id: "t-1",
  language: "typescript",
  code: "",
  inputs: { value: 1 },
  resume: null,
  stream: true,
  debug: true,
  env: {},
  config: { recursion_limit: 25, configurable: {}, interrupt_before: [], interrupt_after: [], checkpoint_id: null },
};

/** Starts the harness one way, sends `job` after `ready`, answers checkpoint requests from memory, collects the rest. */
function session(snapshot: boolean, job: Partial<JobMessage>): Promise<{ messages: HarnessMessage[]; exitCode: number | null; logs: string }> {
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-js-snapshot-"));
  const spec = jsLaunchSpec(workDir, { PATH: "/usr/bin:/bin", HOME: workDir, TMPDIR: workDir, LANG: "C.UTF-8" }, HEAP_MB, { snapshot });
  assert.equal(spec.args.includes("--snapshot-blob"), snapshot, spec.args.join(" "));
  const child = spawn(spec.command, spec.args, { cwd: spec.cwd, env: spec.env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const channel = child.stdio[3] as Readable & Writable;
  const decoder = new FrameDecoder(16 * 1024 * 1024);
  const messages: HarnessMessage[] = [];
  const rows: Json[] = [];
  let logs = "";
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  channel.on("error", () => undefined);
  channel.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const message = parseHarnessMessage(frame);
      if (message.type === "ready") channel.write(encodeFrame({ ...JOB, ...job }));
      else if (message.type === "checkpoint") {
        if (message.op === "put") rows.push({ ...message.args, writes: [] });
        const value = message.op === "get_tuple" ? (rows.at(-1) ?? null) : message.op === "list" ? [...rows].reverse() : null;
        channel.write(encodeFrame({ v: 1, type: "response", request_id: message.request_id, ok: true, value }));
        continue; // the requests' order and contents are LangGraph's, not the harness's
      }
      messages.push(message);
    }
  });
  return new Promise((resolve) => {
    child.on("exit", (exitCode) => {
      rmSync(workDir, { recursive: true, force: true });
      resolve({ messages, exitCode, logs });
    });
  });
}

/** What legitimately differs between two runs: generated ids, timings, and how many library frames a traceback counts. */
function masked(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) => (key === "duration_ms" ? "<ms>" : key === "versions" ? "<versions>" : v))
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>")
    .replace(/"id":"[0-9a-f]{32}"/g, '"id":"<interrupt id>"');
}

const graph = (body: string, imports = ""): string => `${imports}
import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ value: Annotation<number>(), out: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("work", async (state: typeof State.State) => {
${body}
  })
  .addEdge(START, "work").addEdge("work", END).compile();
`;

const PROGRAMS: Record<string, Partial<JobMessage>> = {
  "the corpus echo graph": { code: programSource("typescript/01_echo.ts"), inputs: { messages: [{ role: "user", content: "hi" }] } },
  "an interrupt (AsyncLocalStorage carries the config)": { code: programSource("typescript/05_interrupt.ts"), inputs: { messages: [{ role: "user", content: "hi" }] } },
  "a node's error, mapped to the program's line": { code: graph(`const notes: { text: string }[] = [];\n    return { out: notes[0]!.text };`) },
  "process.exit() (the harness's own frame left out)": { code: graph("process.exit(3);") },
  "a name the package does not export": { code: `import { StateGraph, NoSuchThing } from "@langchain/langgraph";\nexport const app = NoSuchThing;\n`, language: "javascript" },
  "an import the policy refuses": { code: `import Fastify from "fastify";\nexport const app = Fastify();\n` },
  "packages held lazily, and not held at all": {
    code: graph(`return { out: [typeof ChatOpenAI, typeof OpenAI, typeof encodingForModel, Object.keys(langgraph).length > 50].join(",") };`, `import { ChatOpenAI } from "@langchain/openai";\nimport OpenAI from "openai";\nimport { encodingForModel } from "js-tiktoken";\nimport * as langgraph from "@langchain/langgraph";`),
  },
  "the same classes as the harness": {
    code: graph(`const again = await import("@langchain/core/messages");\n    return { out: String(again.AIMessage === AIMessage && isBaseMessage(new AIMessage("x"))) };`, `import { AIMessage, isBaseMessage } from "@langchain/core/messages";`),
  },
};

for (const [name, job] of Object.entries(PROGRAMS)) {
  test(`from the snapshot as from main.mjs: ${name}`, { skip }, async () => {
    const [plain, restored] = await Promise.all([session(false, job), session(true, job)]);
    assert.equal(restored.exitCode, plain.exitCode, restored.logs);
    assert.equal(restored.logs, plain.logs);
    assert.ok(["result", "error"].includes(String(restored.messages.at(-1)?.type)), JSON.stringify(restored.messages.at(-1)));
    assert.equal(masked(restored.messages), masked(plain.messages));
  });
}

test("a heap size the blob was not built for starts from main.mjs (V8 refuses a blob made under other flags)", () => {
  const args = jsLaunchSpec("/tmp", {}, HEAP_MB + 1).args;
  assert.deepEqual(args.slice(-1), [join(JS_RUNTIME_DIR, "harness", "main.mjs")]);
  assert.ok(args.includes(`--max-old-space-size=${HEAP_MB + 1}`));
});
