/**
 * The JavaScript harness answers the same from its startup snapshot as from main.mjs: each
 * program below runs both ways (unsandboxed, this test playing the engine) and every message must
 * match, once ids, timings and versions are masked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";

import type { JobMessage } from "../src/contract/protocol/messages.ts";
import { JS_RUNTIME_DIR, jsLaunchSpec } from "../src/runtimes/js/launch.ts";
import { snapshotProblem } from "../src/runtimes/js/snapshot/stamp.ts";
import { programSource } from "./support/corpus.ts";
import { harnessSession, type Session } from "./support/js-harness.ts";

const HEAP_MB = 512;

/** One program run one way; checkpoint requests left out (their order and contents are LangGraph's, not the harness's). */
async function session(snapshot: boolean, job: Partial<JobMessage>): Promise<Session> {
  const run = await harnessSession(
    { inputs: { value: 1 }, stream: true, debug: true, ...job },
    { snapshot, heapMb: HEAP_MB },
  );
  return { ...run, messages: run.messages.filter((m) => m.type !== "checkpoint") };
}

test("setup built a usable startup snapshot for the default heap size", () => {
  assert.equal(snapshotProblem(HEAP_MB), null, "scripts/setup.sh builds it (scripts/js-snapshot.ts)");
});

/** What legitimately differs between two runs: generated ids, timings (the thread state's checkpoint time too), and how many library frames a traceback counts. */
function masked(value: unknown): string {
  return JSON.stringify(value, (key, v: unknown) =>
    key === "duration_ms" ? "<ms>" : key === "versions" ? "<versions>" : key === "created_at" ? "<time>" : v,
  )
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
  "the corpus echo graph": {
    code: programSource("typescript/01_echo.ts"),
    inputs: { messages: [{ role: "user", content: "hi" }] },
  },
  "an interrupt (AsyncLocalStorage carries the config)": {
    code: programSource("typescript/05_interrupt.ts"),
    inputs: { messages: [{ role: "user", content: "hi" }] },
  },
  "a node's error, mapped to the program's line": {
    code: graph(`const notes: { text: string }[] = [];\n    return { out: notes[0]!.text };`),
  },
  "process.exit() (the harness's own frame left out)": { code: graph("process.exit(3);") },
  "a name the package does not export": {
    code: `import { StateGraph, NoSuchThing } from "@langchain/langgraph";\nexport const app = NoSuchThing;\n`,
    language: "javascript",
  },
  "an import the policy refuses": { code: `import Fastify from "fastify";\nexport const app = Fastify();\n` },
  "packages held lazily, and not held at all": {
    code: graph(
      `return { out: [typeof ChatOpenAI, typeof OpenAI, typeof encodingForModel, Object.keys(langgraph).length > 50].join(",") };`,
      `import { ChatOpenAI } from "@langchain/openai";\nimport OpenAI from "openai";\nimport { encodingForModel } from "js-tiktoken";\nimport * as langgraph from "@langchain/langgraph";`,
    ),
  },
  "the same classes as the harness": {
    code: graph(
      `const again = await import("@langchain/core/messages");\n    return { out: String(again.AIMessage === AIMessage && isBaseMessage(new AIMessage("x"))) };`,
      `import { AIMessage, isBaseMessage } from "@langchain/core/messages";`,
    ),
  },
};

for (const [name, job] of Object.entries(PROGRAMS)) {
  test(`from the snapshot as from main.mjs: ${name}`, async () => {
    const [plain, restored] = await Promise.all([session(false, job), session(true, job)]);
    assert.equal(restored.exitCode, plain.exitCode, restored.logs);
    assert.equal(restored.logs, plain.logs);
    assert.ok(
      ["result", "error"].includes(String(restored.messages.at(-1)?.type)),
      JSON.stringify(restored.messages.at(-1)),
    );
    assert.equal(masked(restored.messages), masked(plain.messages));
  });
}

test("a heap size the blob was not built for starts from main.mjs (V8 refuses a blob made under other flags)", () => {
  const args = jsLaunchSpec("/tmp", {}, HEAP_MB + 1).args;
  assert.deepEqual(args.slice(-1), [join(JS_RUNTIME_DIR, "harness", "main.mjs")]);
  assert.ok(args.includes(`--max-old-space-size=${HEAP_MB + 1}`));
});
