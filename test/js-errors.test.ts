/** How the JavaScript/TypeScript runtime reports a program's failures, each followed by a normal request. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { survivors } from "./support/processes.ts";
import { lineOf, TYPESCRIPT_OK, typescriptGraph } from "./support/programs.ts";

type Json = Record<string, unknown>;

/** What no answer may show: the engine's and the runtime's install paths, the program's tmp file. */
const ENGINE_PATHS = /\/work\/|\/src\/runtimes|node_modules|graphbox-program-|workflow\.mjs|file:\/\//;

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

async function run(code: string, config: Json = {}, language = "typescript") {
  return engine.post("/execute-langgraph", { code, language, inputs: { value: 1 }, config });
}

async function expectHealthy(): Promise<void> {
  const { status, body } = await run(TYPESCRIPT_OK);
  assert.equal(status, 200);
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.deepEqual((body["result"] as { state: unknown }).state, { value: 1, out: "fine" });
}

function assertNoEnginePaths(body: Json): void {
  for (const field of ["error", "traceback"])
    assert.doesNotMatch(String(body[field] ?? ""), ENGINE_PATHS, `${field}: ${String(body[field])}`);
}

test("syntax_error names the program's line and column", async () => {
  const { status, body } = await run(
    `import { StateGraph } from "@langchain/langgraph";\n\nconst broken: number = ;\n`,
  );
  assert.equal(status, 200);
  assert.equal(body["error_type"], "syntax_error");
  assert.equal(body["node"], null);
  assert.match(String(body["error"]), /^SyntaxError: Unexpected ";" \(<workflow>:3:24\)$/);
  assert.match(String(body["traceback"]), /^<workflow>:3:24\nconst broken: number = ;\n {23}\^/);
  await expectHealthy();
});

test("program_error in a node names the node and the TypeScript line, through the source map", async () => {
  const code = typescriptGraph(
    `console.log("about to fail");\nconst notes: Note[] = [];\nreturn { out: notes[0]!.text };`,
  );
  const line = lineOf(code, "return { out: notes[0]!.text }");
  const { status, body } = await run(code);
  assert.equal(status, 200);
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.equal(body["error"], "TypeError: Cannot read properties of undefined (reading 'text')");
  const traceback = String(body["traceback"]);
  assert.match(
    traceback,
    new RegExp(`^TypeError: .*\\n    at \\S*work\\S*(?: \\[as func\\])? \\(<workflow>:${line}:\\d+\\)`),
    traceback,
  );
  assert.match(traceback, /\.\.\. \d+ frame\(s\) in LangGraph, libraries and Node/);
  assertNoEnginePaths(body);
  assert.equal((body["metadata"] as { logs: string }).logs, "about to fail\n");
  await expectHealthy();
});

test("program_error at the top level has no node and points at the line", async () => {
  const code = `import { StateGraph } from "@langchain/langgraph";\n\ntype Id = string;\nconst id: Id = "x";\nthrow new Error(\`top level boom \${id}\`);\n`;
  const { body } = await run(code);
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], null);
  assert.equal(body["error"], "Error: top level boom x");
  assert.match(String(body["traceback"]), /\n    at <workflow>:5:7/);
  assertNoEnginePaths(body);
  await expectHealthy();
});

test("no_app when the program exports no graph", async () => {
  const { body } = await run(`import { StateGraph } from "@langchain/langgraph";\nexport const answer = 42;\n`);
  assert.equal(body["error_type"], "no_app");
  assert.match(String(body["error"]), /`app`.*default export.*`graph`.*`workflow`.*createApp\(\)/);
  await expectHealthy();
});

test("an uncompiled StateGraph from createApp() is compiled by the engine", async () => {
  const code = TYPESCRIPT_OK.replace(
    "export const app = new StateGraph",
    "export function createApp() {\n  return new StateGraph",
  ).replace(".compile();", ";\n}");
  const { body } = await run(code);
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.deepEqual((body["result"] as { state: unknown }).state, { value: 1, out: "fine" });
});

test("timeout kills a busy program and its children at config.timeout_ms", async () => {
  const seconds = String(900_000 + Math.floor(Math.random() * 99_999));
  const code = typescriptGraph(
    `spawn("sleep", ["${seconds}"], { stdio: "ignore" });\nwhile (true) {}`,
    `import { spawn } from "node:child_process";`,
  );
  const started = Date.now();
  const { status, body } = await run(code, { timeout_ms: 1500 });
  assert.equal(status, 200);
  assert.equal(body["error_type"], "timeout", JSON.stringify(body));
  assert.match(String(body["error"]), /timeout of 1500 ms/);
  assert.ok(Date.now() - started < 15_000);
  assert.deepEqual(await survivors(`sleep ${seconds}`), [], "the program's child outlived the execution");
  await expectHealthy();
});

test("a program cannot import the engine's packages", async () => {
  const { body } = await run(`import Fastify from "fastify";\nexport const server = Fastify();\n`);
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], null);
  assert.match(
    String(body["error"]),
    /^ImportError: cannot import "fastify": (it is not one of the runtime's packages|no such package in this runtime); a program may import .*\(<workflow>:1:21\)$/,
  );
  assert.match(String(body["traceback"]), /^<workflow>:1:21\nimport Fastify from "fastify";/);
  assertNoEnginePaths(body);
  await expectHealthy();
});

test("a program cannot import the engine's files", async () => {
  const { body } = await run(
    `import { ERRORS } from "../../src/errors.ts";\nexport const codes = Object.keys(ERRORS);\n`,
  );
  assert.equal(body["error_type"], "program_error");
  assert.match(
    String(body["error"]),
    /^ImportError: cannot import "\.\.\/\.\.\/src\/errors\.ts": a program is a single module and cannot import files or URLs/,
  );
  assertNoEnginePaths(body);
  await expectHealthy();
});

test("nor reach the engine's packages by a computed import() or require()", async () => {
  for (const load of [
    `await import(["fast", "ify"].join(""))`,
    `createRequire(import.meta.url)(["fast", "ify"].join(""))`,
  ]) {
    const code = `import { createRequire } from "node:module";\nexport const server = ${load};\n`;
    const { body } = await run(code);
    assert.equal(body["error_type"], "program_error", JSON.stringify(body));
    assert.match(String(body["error"]), /Cannot find (package|module) 'fastify'/);
    assertNoEnginePaths(body);
  }
  await expectHealthy();
});

test("process.exit() in a node is a program_error, not a lost result", async () => {
  const { body } = await run(typescriptGraph(`process.exit(3);`));
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.equal(body["error"], "ProcessExit: process.exit(3) was called");
  await expectHealthy();
});

test("an exception thrown from a timer ends the execution as the program's error", async () => {
  const { body } = await run(
    typescriptGraph(
      `setTimeout(() => {\n  throw new Error("late boom");\n}, 0);\nawait new Promise((resolve) => setTimeout(resolve, 1000));\nreturn {};`,
    ),
  );
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.equal(body["error"], "Error: late boom");
  await expectHealthy();
});

test("a node awaiting a promise that can never settle fails at once instead of hanging", async () => {
  const started = Date.now();
  const { body } = await run(typescriptGraph(`await new Promise(() => {});\nreturn {};`), { timeout_ms: 20_000 });
  assert.equal(body["error_type"], "program_error");
  assert.equal(body["node"], "work");
  assert.match(String(body["error"]), /can never settle/);
  assert.ok(Date.now() - started < 10_000);
});

test("a rejected promise nobody awaits is reported in the logs, not fatal", async () => {
  const { body } = await run(
    typescriptGraph(
      `void Promise.reject(new RangeError("ignored"));\nawait new Promise((resolve) => setTimeout(resolve, 20));\nreturn { out: "fine" };`,
    ),
  );
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.match(
    (body["result"] as { metadata: { logs: string } }).metadata.logs,
    /Unhandled promise rejection: RangeError: ignored/,
  );
});

test("invalid_request: a breakpoint on a node the graph lacks names both, worded as for Python", async () => {
  const { status, body } = await run(TYPESCRIPT_OK, { breakpoints: ["nope"] });
  assert.equal(status, 400);
  assert.equal(body["error_type"], "invalid_request");
  assert.match(String(body["error"]), /unknown node\(s\) \['nope'\]; the graph's nodes are \['work'\]/);
  await expectHealthy();
});

test("JavaScript that does not parse reports the JavaScript error", async () => {
  const { body } = await run(`export const x = ;\n`, {}, "javascript");
  assert.equal(body["error_type"], "syntax_error");
  assert.equal(body["error"], 'SyntaxError: Unexpected ";" (<workflow>:1:18)');
});

test("a sandbox error when the process dies without a result", async () => {
  const { body } = await run(typescriptGraph(`process.kill(process.pid, "SIGKILL");\nreturn {};`));
  assert.equal(body["error_type"], "sandbox_error");
  assert.match(String(body["error"]), /killed by SIGKILL/);
  await expectHealthy();
});
