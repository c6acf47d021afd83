/**
 * LangGraph's official Python client (`langgraph-sdk`, pinned in test/tools/requirements.lock)
 * drives Graphbox: test/support/sdk_scenario.py runs the calls a user's script makes (threads, a
 * streamed run with tokens, an interrupt resumed with a Command, history, a joined background run,
 * the store, a stateless run) and prints what each answered.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { PROJECT_ROOT } from "../src/contract/paths.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { AGENT_PROGRAMS, registerProgram } from "./support/agent-programs.ts";
import { installTestTools } from "./support/test-tools.ts";

const KEY = "python-sdk-key-0123456789";
let engine: RunningEngine;
let llm: LlmStandIn;
let python: string;

before(async () => {
  python = join(await installTestTools(), "python");
  llm = await startLlmStandIn();
  engine = await startEngine(llm, { apiKeys: { py: KEY } });
  for (const id of ["py-chat", "ts-approval", "py-slow"] as const)
    await registerProgram({ url: engine.url, key: KEY, graphId: id, ...AGENT_PROGRAMS[id] });
});
after(async () => {
  await engine?.close();
  await llm?.close();
});

type Json = Record<string, unknown>;

test("the Python SDK's calls, answered as LangGraph's servers answer them", async () => {
  const { stdout } = await promisify(execFile)(
    python,
    [join(PROJECT_ROOT, "test/support/sdk_scenario.py"), engine.url, KEY],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  const out = JSON.parse(stdout) as Record<string, unknown>;

  const stream = out["stream"] as { event: string; data: unknown }[];
  assert.equal(stream[0]?.event, "metadata");
  const tokens = stream
    .filter((e) => e.event === "messages")
    .map((e) => (e.data as [{ content: string }])[0].content)
    .join("");
  assert.equal(tokens, "Hello from the stand-in! You said: hello python");
  assert.ok(stream.some((e) => e.event === "updates" && (e.data as Json)["chat"]));
  const state = out["state"] as { values: { messages: unknown[] }; next: string[] };
  assert.equal(state.values.messages.length, 2);
  assert.deepEqual(state.next, []);
  assert.ok((out["search"] as Json[]).length >= 1);

  const interrupted = out["interrupted"] as Json;
  assert.equal(((interrupted["__interrupt__"] as { value: Json }[])[0]?.value ?? {})["question"], "approve?");
  assert.equal((out["waiting"] as Json)["status"], "interrupted");
  assert.equal((out["resumed"] as Json)["done"], "published");
  const history = out["history"] as { next: string[] }[];
  assert.ok(
    history.some((h) => h.next.includes("review")),
    "history holds the checkpoint that waited",
  );

  assert.equal((out["joined"] as Json)["n"], 1);
  assert.equal((out["run"] as Json)["status"], "success");
  assert.deepEqual((out["item"] as Json)["value"], { value: "green" });
  assert.equal(((out["items"] as Json)["items"] as unknown[]).length, 1);
  assert.equal((out["stateless"] as Json)["n"], 1);
});
