/** Bad requests get the contract's envelope naming the problem; the engine carries on. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { PYTHON_OK, TYPESCRIPT_OK } from "./support/programs.ts";

let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { bodyLimitBytes: 64 * 1024 })));
after(async () => engine.close());

async function expectInvalid(
  body: unknown,
  status: number,
  message: RegExp,
  path = "/execute-langgraph",
): Promise<void> {
  const answer = await engine.post(path, body);
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body["status"], "error");
  assert.equal(answer.body["error_type"], "invalid_request");
  assert.match(String(answer.body["error"]), message);
}

test("invalid JSON", () => expectInvalid('{"code": ', 400, /not valid JSON/));
test("missing code", () => expectInvalid({ inputs: {} }, 400, /`code` is required/));
test("empty code", () => expectInvalid({ code: "   \n" }, 400, /`code` must not be empty/));
test("code of length zero", () => expectInvalid({ code: "" }, 400, /`code` must not be empty/));
test("code of the wrong type is not coerced", () => expectInvalid({ code: 123 }, 400, /`code` must be string/));
test("unknown language", () =>
  expectInvalid(
    { code: PYTHON_OK, language: "ruby" },
    400,
    /`language` must be one of python, javascript, typescript/,
  ));
test("wrong type deep in config", () =>
  expectInvalid({ code: PYTHON_OK, config: { debug: "yes" } }, 400, /`config.debug` must be boolean/));
test("bad breakpoint entry", () =>
  expectInvalid(
    { code: PYTHON_OK, config: { breakpoints: [{ when: "before" }] } },
    400,
    /`config.breakpoints\[0\]` must be a node name/,
  ));
test("unknown config field", () =>
  expectInvalid({ code: PYTHON_OK, config: { "thread-id": "x" } }, 400, /`config` has an unknown field `thread-id`/));
test("body over the limit", () =>
  expectInvalid({ code: "#".repeat(100 * 1024) }, 413, /larger than GRAPHBOX_BODY_LIMIT_BYTES/));
test("language that cannot be told", () =>
  expectInvalid({ code: "hello world" }, 400, /does not tell whether it is Python or JavaScript/));
test("javascript is detected and run", async () => {
  const { status, body } = await engine.post("/execute-langgraph", { code: "export const app = 1;", inputs: {} });
  assert.equal(status, 200);
  assert.equal(body["error_type"], "no_app", JSON.stringify(body));
  assert.equal((body["metadata"] as { runtime: string }).runtime, "javascript");
});
test("the /api prefix validates the same", () =>
  expectInvalid({}, 400, /`code` is required/, "/api/execute-langgraph"));

test("not JSON at all", async () => {
  const response = await fetch(`${engine.url}/execute-langgraph`, {
    method: "POST",
    headers: { "content-type": "text/plain" },
    body: "print(1)",
  });
  assert.equal(response.status, 415);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body["error_type"], "invalid_request");
});

test("unknown route is a JSON 404", async () => {
  const response = await fetch(`${engine.url}/nope`);
  assert.equal(response.status, 404);
  assert.equal(((await response.json()) as Record<string, unknown>)["error_type"], "invalid_request");
});

test("inputs, resume and configurable nested deeper than GRAPHBOX_MAX_INPUT_DEPTH are a 400, up to any depth the body limit allows", async () => {
  // 30,000 levels overflowed the engine's JSON encoder (a 500); 1,000 killed the Python harness.
  const nested = (depth: number): string => "[".repeat(depth) + "]".repeat(depth);
  for (const depth of [101, 1_000, 30_000]) {
    for (const field of ["inputs", "resume", "config.configurable"] as const) {
      const value =
        field === "config.configurable"
          ? `"config": {"configurable": {"x": ${nested(depth - 1)}}}`
          : `"${field}": ${nested(depth)}`;
      await expectInvalid(
        `{"code": ${JSON.stringify(PYTHON_OK)}, ${value}}`,
        400,
        new RegExp(`\`${field.replace(".", "\\.")}\` is nested deeper than GRAPHBOX_MAX_INPUT_DEPTH \\(100\\) allows`),
      );
    }
  }
  // At the limit, both runtimes take it.
  for (const code of [PYTHON_OK, TYPESCRIPT_OK]) {
    const { body } = await engine.post(
      "/execute-langgraph",
      `{"code": ${JSON.stringify(code)}, "inputs": {"value": ${nested(99)}}, "config": {"configurable": {"x": ${nested(99)}}}}`,
    );
    assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 500));
  }
});

test("a route asked with a method it does not take is a 405 naming those it takes", async () => {
  for (const [method, path, allow] of [
    ["GET", "/execute-langgraph", "POST"],
    ["DELETE", "/api/executions/x", "GET, HEAD"],
    ["OPTIONS", "/health", "GET, HEAD"],
  ] as const) {
    const response = await fetch(engine.url + path, { method });
    assert.equal(response.status, 405, `${method} ${path}`);
    assert.equal(response.headers.get("allow"), allow);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body["code"], "GBX_ERR_METHOD_NOT_ALLOWED");
    assert.match(String(body["error"]), new RegExp(`${method} is not allowed on ${path}; it takes ${allow}`));
  }
});

test("language is detected when absent and the engine still runs after bad requests", async () => {
  const { status, body } = await engine.post("/api/execute-langgraph", { code: PYTHON_OK, inputs: {} });
  assert.equal(status, 200);
  assert.equal(body["status"], "success");
  assert.equal((body["result"] as { metadata: { runtime: string } }).metadata.runtime, "python");
});

test("health and readiness", async () => {
  assert.deepEqual(await (await fetch(`${engine.url}/health`)).json(), { status: "ok" });
  assert.equal(((await (await fetch(`${engine.url}/ready`)).json()) as Record<string, unknown>)["status"], "ready");
});

test("query values are text: ?limit on a thread's history and ?last_event_id on a stream are read as numbers", async () => {
  const { body } = await engine.post("/execute-langgraph", {
    code: PYTHON_OK,
    inputs: {},
    config: { thread_id: "query-values" },
  });
  assert.equal(body["status"], "success", JSON.stringify(body));
  const history = async (query: string) => {
    const response = await fetch(`${engine.url}/threads/query-values/history${query}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  assert.ok(((await history("")).body["checkpoints"] as unknown[]).length > 1);
  assert.equal(((await history("?limit=1")).body["checkpoints"] as unknown[]).length, 1);
  for (const bad of ["0", "1001", "1.5", "x"]) {
    const answer = await history(`?limit=${bad}`);
    assert.equal(answer.status, 400, bad);
    assert.match(String(answer.body["error"]), /`limit` must match/);
  }
  const executionId = (body["result"] as { metadata: { execution_id: string } }).metadata.execution_id;
  const replay = await fetch(`${engine.url}/executions/${executionId}/stream?last_event_id=1`);
  assert.equal(replay.status, 200);
  assert.doesNotMatch(await replay.text(), /^id: 1$/m);
  const refused = await fetch(`${engine.url}/executions/${executionId}/stream`, {
    headers: { "last-event-id": "one" },
  });
  assert.equal(refused.status, 400);
  assert.match(String(((await refused.json()) as Record<string, unknown>)["error"]), /`last-event-id` must match/);
});
