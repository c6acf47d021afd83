/**
 * Bad requests get the contract's envelope naming the problem; the engine carries on. Requests go
 * through @graphbox/client; those its types cannot express (invalid JSON, wrong types, unknown
 * fields, a missing `code`, other methods and media types, raw query strings and headers) go as raw
 * HTTP, through `engine.post` or fetch.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { GraphboxClient, GraphboxError, type ExecuteRequest } from "../packages/client/src/index.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { PYTHON_OK, TYPESCRIPT_OK } from "./support/programs.ts";

let engine: RunningEngine;
let client: GraphboxClient;
before(async () => {
  engine = await startEngine(undefined, { bodyLimitBytes: 64 * 1024 });
  client = new GraphboxClient({ url: engine.url });
});
after(async () => engine.close());

/** A typed request the engine refuses: the client throws its envelope as a GraphboxError. */
async function expectRefused(request: ExecuteRequest, status: number, message: RegExp, via = client): Promise<void> {
  await assert.rejects(via.execute(request), (err: unknown) => {
    assert.ok(err instanceof GraphboxError, String(err));
    assert.equal(err.status, status, JSON.stringify(err.body));
    assert.equal((err.body as Record<string, unknown>)["status"], "error");
    assert.equal(err.errorType, "invalid_request");
    assert.match(err.message, message);
    return true;
  });
}

/** A request the client's types cannot send, as raw JSON. */
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
test("empty code", () => expectRefused({ code: "   \n" }, 400, /`code` must not be empty/));
test("code of length zero", () => expectRefused({ code: "" }, 400, /`code` must not be empty/));
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
  expectRefused({ code: "#".repeat(100 * 1024) }, 413, /larger than GRAPHBOX_BODY_LIMIT_BYTES/));
test("language that cannot be told", () =>
  expectRefused({ code: "hello world" }, 400, /does not tell whether it is Python or JavaScript/));
test("javascript is detected and run", async () => {
  const body = await client.execute({ code: "export const app = 1;", inputs: {} });
  assert.equal(body.status, "error", JSON.stringify(body));
  assert.equal(body.error_type, "no_app", JSON.stringify(body));
  assert.equal(body.metadata.runtime, "javascript");
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
  const deep = JSON.parse(nested(99)) as unknown;
  for (const code of [PYTHON_OK, TYPESCRIPT_OK]) {
    const body = await client.execute({ code, inputs: { value: deep }, config: { configurable: { x: deep } } });
    assert.equal(body.status, "success", JSON.stringify(body).slice(0, 500));
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
  const body = await new GraphboxClient({ url: `${engine.url}/api` }).execute({ code: PYTHON_OK, inputs: {} });
  assert.equal(body.status, "success");
  assert.equal(body.result.metadata.runtime, "python");
});

test("health and readiness", async () => {
  assert.deepEqual(await client.health(), { status: "ok" });
  assert.equal((await client.ready()).status, "ready");
});

test("query values are text: ?limit on a thread's history and ?last_event_id on a stream are read as numbers", async () => {
  const body = await client.execute({ code: PYTHON_OK, inputs: {}, config: { thread_id: "query-values" } });
  assert.equal(body.status, "success", JSON.stringify(body));
  assert.ok((await client.threads.history("query-values")).checkpoints.length > 1);
  assert.equal((await client.threads.history("query-values", { limit: 1 })).checkpoints.length, 1);
  for (const bad of [0, 1001, 1.5]) {
    await assert.rejects(client.threads.history("query-values", { limit: bad }), (err: unknown) => {
      assert.ok(err instanceof GraphboxError && err.status === 400, String(bad));
      assert.match(err.message, /`limit` must match/);
      return true;
    });
  }
  // Not a number at all: only raw HTTP can ask that.
  const notANumber = await fetch(`${engine.url}/threads/query-values/history?limit=x`);
  assert.equal(notANumber.status, 400);
  assert.match(String(((await notANumber.json()) as Record<string, unknown>)["error"]), /`limit` must match/);
  const executionId = body.result.metadata.execution_id;
  const replay = await fetch(`${engine.url}/executions/${executionId}/stream?last_event_id=1`);
  assert.equal(replay.status, 200);
  assert.doesNotMatch(await replay.text(), /^id: 1$/m);
  const refused = await fetch(`${engine.url}/executions/${executionId}/stream`, {
    headers: { "last-event-id": "one" },
  });
  assert.equal(refused.status, 400);
  assert.match(String(((await refused.json()) as Record<string, unknown>)["error"]), /`last-event-id` must match/);
});
