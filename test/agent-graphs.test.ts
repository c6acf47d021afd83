/**
 * Programs registered at run time and LangGraph's assistants, through a real engine on a real
 * port: registration checked by loading the program in a sandbox (both runtimes), replacement,
 * refusals with the program's own message, assistants as the SDKs call them, the graph's drawing
 * and schemas, per-key isolation, `x-api-key`, /info and /ok.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Client } from "@langchain/langgraph-sdk";

import { resolveAssistant } from "../src/agent/assistants.ts";
import { defaultAssistantId } from "../src/agent/uuid5.ts";
import { GraphboxError } from "../src/contract/errors.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";

const ALICE = `alice-key-${crypto.randomUUID()}`;
const BOB = `bob-key-${crypto.randomUUID()}`;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** A router: `decide` goes on to `big` or `small` by a conditional edge. */
const PYTHON_ROUTER = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    value: int
    out: str


def decide(state: State):
    return {"out": "big" if state.get("value", 0) > 1 else "small"}


def big(state: State):
    return {"out": "big!"}


def small(state: State):
    return {"out": "small!"}


def route(state: State) -> str:
    return "big" if state.get("out") == "big" else "small"


builder = StateGraph(State)
builder.add_node("decide", decide)
builder.add_node("big", big)
builder.add_node("small", small)
builder.add_edge(START, "decide")
builder.add_conditional_edges("decide", route, ["big", "small"])
builder.add_edge("big", END)
builder.add_edge("small", END)
graph = builder.compile()
`;

/** The same router in TypeScript, its state a zod schema (whose JSON Schema LangGraph.js gives at run time). */
const TYPESCRIPT_ROUTER = `import { z } from "zod";
import { StateGraph, START, END } from "@langchain/langgraph";

const State = z.object({ value: z.number().optional(), out: z.string().optional() });
type S = z.infer<typeof State>;

export const graph = new StateGraph(State)
  .addNode("decide", (s: S) => ({ out: (s.value ?? 0) > 1 ? "big" : "small" }))
  .addNode("big", () => ({ out: "big!" }))
  .addNode("small", () => ({ out: "small!" }))
  .addEdge(START, "decide")
  .addConditionalEdges("decide", (s: S) => (s.out === "big" ? "big" : "small"), ["big", "small"])
  .addEdge("big", END)
  .addEdge("small", END)
  .compile();
`;

interface Answer {
  status: number;
  body: unknown;
  headers: Headers;
}

let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { apiKeys: { alice: ALICE, bob: BOB } })));
after(async () => engine.close());

async function call(
  method: string,
  path: string,
  options: { body?: unknown; key?: string | null; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const key = options.key === undefined ? ALICE : options.key;
  const response = await fetch(engine.url + path, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...(key === null ? {} : { authorization: `Bearer ${key}` }),
      ...options.headers,
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? null : JSON.parse(text), headers: response.headers };
}

const object = (answer: Answer): Record<string, unknown> => {
  assert.equal(typeof answer.body, "object", JSON.stringify(answer.body));
  return answer.body as Record<string, unknown>;
};

function expectStatus(answer: Answer, status: number): Record<string, unknown> {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  return object(answer);
}

/** A Graphbox envelope that also carries LangGraph's `detail`. */
function expectError(answer: Answer, status: number, code: string): string {
  const body = expectStatus(answer, status);
  assert.equal(body["status"], "error");
  assert.equal(body["code"], code);
  assert.equal(typeof body["error"], "string");
  assert.equal(body["detail"], body["error"]);
  return body["error"] as string;
}

const register = (graphId: string, body: Record<string, unknown>, key: string = ALICE) =>
  call("PUT", `/graphs/${graphId}`, { body, key });

describe("registering programs", () => {
  test("a Python program: checked, stored, listed, read back, replaced as version 2", async () => {
    const first = expectStatus(await register("router-py", { code: PYTHON_ROUTER, language: "python" }), 200);
    assert.deepEqual(Object.keys(first).sort(), [
      "assistant_id",
      "created_at",
      "graph",
      "graph_id",
      "language",
      "updated_at",
      "version",
    ]);
    assert.equal(first["graph_id"], "router-py");
    assert.equal(first["language"], "python");
    assert.equal(first["version"], 1);
    assert.equal(first["assistant_id"], defaultAssistantId("router-py"));
    assert.match(String(first["created_at"]), ISO);

    const read = expectStatus(await call("GET", "/graphs/router-py"), 200);
    assert.equal(read["code"], PYTHON_ROUTER);
    assert.deepEqual(read["files"], {});
    assert.equal(read["version"], 1);

    const replaced = expectStatus(await register("router-py", { code: `${PYTHON_ROUTER}\n# v2\n` }), 200);
    assert.equal(replaced["version"], 2);
    assert.equal(replaced["language"], "python", "detected when absent");
    assert.equal(replaced["created_at"], first["created_at"]);
    assert.ok(String(replaced["updated_at"]) >= String(first["updated_at"]));
    assert.match(String(object(await call("GET", "/graphs/router-py"))["code"]), /# v2/);

    const listed = await call("GET", "/graphs");
    assert.equal(listed.status, 200);
    const ids = (listed.body as Record<string, unknown>[]).map((g) => g["graph_id"]);
    assert.ok(ids.includes("router-py"), JSON.stringify(ids));
    assert.ok(!("code" in (listed.body as Record<string, unknown>[])[0]!), "the list holds summaries");
  });

  test("a TypeScript program, its language detected, with a module beside it", async () => {
    const code = TYPESCRIPT_ROUTER.replace(
      `const State = z.object(`,
      `import { BIG } from "./limits.js";\nvoid BIG;\nconst State = z.object(`,
    );
    const answer = expectStatus(
      await register("router-ts", { code, files: { "limits.ts": "export const BIG = 1;\n" }, graph: "graph" }),
      200,
    );
    assert.equal(answer["language"], "typescript");
    assert.equal(answer["graph"], "graph");
    assert.deepEqual(object(await call("GET", "/graphs/router-ts"))["files"], {
      "limits.ts": "export const BIG = 1;\n",
    });
  });

  test("a program that does not parse is refused with its own message, and nothing is stored", async () => {
    const broken = "from langgraph.graph import StateGraph\n\ndef broken(:\n    pass\n";
    const message = expectError(
      await register("broken", { code: broken, language: "python" }),
      422,
      "GBX_ERR_GRAPH_INVALID",
    );
    assert.match(message, /^SyntaxError: .*line 3/);
    expectError(await call("GET", "/graphs/broken"), 404, "GBX_ERR_GRAPH_NOT_FOUND");

    const tsBroken = "export const graph = (;\n";
    expectError(await register("broken", { code: tsBroken, language: "typescript" }), 422, "GBX_ERR_GRAPH_INVALID");
  });

  test("a program without a graph is refused with the message naming what was looked for", async () => {
    const message = expectError(
      await register("empty", { code: "import json\nx = 1\n", language: "python" }),
      422,
      "GBX_ERR_GRAPH_INVALID",
    );
    assert.match(message, /`app`.*`graph`/);
    expectError(await call("GET", "/graphs/empty"), 404, "GBX_ERR_GRAPH_NOT_FOUND");
  });

  test("a refused replacement leaves the registered version as it was", async () => {
    expectStatus(await register("kept", { code: PYTHON_ROUTER }), 200);
    expectError(await register("kept", { code: "import json\n", language: "python" }), 422, "GBX_ERR_GRAPH_INVALID");
    const kept = expectStatus(await call("GET", "/graphs/kept"), 200);
    assert.equal(kept["version"], 1);
    assert.equal(kept["code"], PYTHON_ROUTER);
  });

  test("the request is checked before any sandbox: graph_id, code, language, files", async () => {
    const long = "g".repeat(129);
    assert.match(
      expectError(await register(long, { code: PYTHON_ROUTER }), 400, "GBX_ERR_INVALID_REQUEST"),
      /graph_id/,
    );
    expectError(await register("bad%20id", { code: PYTHON_ROUTER }), 400, "GBX_ERR_INVALID_REQUEST");
    expectError(await register("blank", { code: "  \n" }), 400, "GBX_ERR_INVALID_REQUEST");
    expectError(await register("unknown", { code: "x", language: "cobol" }), 400, "GBX_ERR_INVALID_REQUEST");
    expectError(await register("undetected", { code: "x = 1" }), 400, "GBX_ERR_LANGUAGE_UNDETECTED");
    const files = await register("files", { code: PYTHON_ROUTER, language: "python", files: { "../up.py": "" } });
    assert.match(expectError(files, 400, "GBX_ERR_INVALID_REQUEST"), /`files` name "..\/up.py"/);
    expectError(await register("extra", { code: PYTHON_ROUTER, inputs: {} }), 400, "GBX_ERR_INVALID_REQUEST");
  });

  test("DELETE removes the program and its assistants", async () => {
    expectStatus(await register("doomed", { code: PYTHON_ROUTER }), 200);
    const mine = expectStatus(await call("POST", "/assistants", { body: { graph_id: "doomed" } }), 200);
    const deleted = await call("DELETE", "/graphs/doomed");
    assert.equal(deleted.status, 204);
    assert.equal(deleted.body, null);
    expectError(await call("GET", "/graphs/doomed"), 404, "GBX_ERR_GRAPH_NOT_FOUND");
    expectError(await call("GET", "/assistants/doomed"), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("GET", `/assistants/${String(mine["assistant_id"])}`), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("DELETE", "/graphs/doomed"), 404, "GBX_ERR_GRAPH_NOT_FOUND");
  });
});

describe("assistants", () => {
  before(async () => {
    expectStatus(await register("router", { code: PYTHON_ROUTER, language: "python" }), 200);
    expectStatus(await register("router-js", { code: TYPESCRIPT_ROUTER }), 200);
  });

  test("a graph's default assistant answers to its graph_id and to LangGraph's uuid5 of it", async () => {
    const byGraph = expectStatus(await call("GET", "/assistants/router"), 200);
    // The reference server's fields, in its order.
    assert.deepEqual(Object.keys(byGraph), [
      "assistant_id",
      "version",
      "config",
      "context",
      "created_at",
      "updated_at",
      "graph_id",
      "metadata",
      "name",
      "description",
    ]);
    assert.equal(byGraph["assistant_id"], defaultAssistantId("router"));
    assert.equal(byGraph["graph_id"], "router");
    assert.equal(byGraph["name"], "router");
    assert.deepEqual(byGraph["metadata"], { created_by: "system" });
    assert.deepEqual(byGraph["config"], {});
    assert.deepEqual(byGraph["context"], {});
    assert.equal(byGraph["version"], 1);
    assert.deepEqual(expectStatus(await call("GET", `/assistants/${defaultAssistantId("router")}`), 200), byGraph);
    assert.deepEqual(expectStatus(await call("GET", "/api/assistants/router"), 200), byGraph, "under /api too");
  });

  test("create, get, patch (metadata merged, version + 1), delete", async () => {
    const created = expectStatus(
      await call("POST", "/assistants", {
        body: {
          graph_id: "router",
          config: { configurable: { model: "small" } },
          context: { user: "ann" },
          metadata: { team: "a", tier: 1 },
          name: "Router A",
          description: "routes",
        },
      }),
      200,
    );
    const id = String(created["assistant_id"]);
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...created, assistant_id: null, created_at: null, updated_at: null },
      {
        assistant_id: null,
        graph_id: "router",
        config: { configurable: { model: "small" } },
        context: { user: "ann" },
        metadata: { team: "a", tier: 1 },
        name: "Router A",
        description: "routes",
        version: 1,
        created_at: null,
        updated_at: null,
      },
    );
    assert.deepEqual(expectStatus(await call("GET", `/assistants/${id}`), 200), created);

    const patched = expectStatus(
      await call("PATCH", `/assistants/${id}`, { body: { metadata: { tier: 2 }, name: "Router B" } }),
      200,
    );
    assert.deepEqual(patched["metadata"], { team: "a", tier: 2 });
    assert.equal(patched["name"], "Router B");
    assert.deepEqual(patched["config"], { configurable: { model: "small" } }, "untouched");
    assert.equal(patched["version"], 2);

    const versions = await call("POST", `/assistants/${id}/versions`, { body: {} });
    assert.equal(versions.status, 200);
    assert.deepEqual(
      (versions.body as Record<string, unknown>[]).map((v) => [v["version"], v["name"]]),
      [[2, "Router B"]],
    );

    const deleted = await call("DELETE", `/assistants/${id}?delete_threads=false`);
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, [id]);
    const gone = expectError(await call("GET", `/assistants/${id}`), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    assert.equal(gone, "Assistant not found");
    expectError(await call("PATCH", `/assistants/${id}`, { body: { name: "x" } }), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
  });

  test("an absent name is LangGraph's `Untitled`; a given assistant_id and if_exists", async () => {
    const id = crypto.randomUUID();
    const first = expectStatus(
      await call("POST", "/assistants", { body: { graph_id: "router", assistant_id: id } }),
      200,
    );
    assert.equal(first["assistant_id"], id);
    assert.equal(first["name"], "Untitled");
    assert.equal(first["description"], null);
    const again = { graph_id: "router", assistant_id: id, name: "other" };
    expectError(await call("POST", "/assistants", { body: again }), 409, "GBX_ERR_ASSISTANT_EXISTS");
    const kept = expectStatus(await call("POST", "/assistants", { body: { ...again, if_exists: "do_nothing" } }), 200);
    assert.equal(kept["name"], "Untitled", "do_nothing answers the one there");
    expectError(
      await call("POST", "/assistants", { body: { graph_id: "router", assistant_id: "not-a-uuid" } }),
      400,
      "GBX_ERR_INVALID_REQUEST",
    );
    expectError(await call("POST", "/assistants", { body: { graph_id: "nowhere" } }), 404, "GBX_ERR_GRAPH_NOT_FOUND");
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 150; i++) deep = { a: deep };
    for (const [method, path, body] of [
      ["POST", "/assistants", { graph_id: "router", metadata: deep }],
      ["PATCH", `/assistants/${id}`, { context: deep }],
      ["POST", "/assistants/search", { metadata: deep }],
    ] as const) {
      const refused = expectError(await call(method, path, { body }), 400, "GBX_ERR_INVALID_REQUEST");
      assert.match(refused, /GRAPHBOX_MAX_INPUT_DEPTH/);
    }
    expectError(
      await call("PATCH", `/assistants/${id}`, { body: { graph_id: "nowhere" } }),
      404,
      "GBX_ERR_GRAPH_NOT_FOUND",
    );
  });

  test("search by graph, metadata and name, paged and sorted; count", async () => {
    const made: string[] = [];
    for (const [i, name] of ["Alpha search", "Beta search", "Gamma search"].entries()) {
      const body = { graph_id: "router-js", name, metadata: { batch: "s", i } };
      made.push(String(expectStatus(await call("POST", "/assistants", { body }), 200)["assistant_id"]));
    }
    const search = (body: Record<string, unknown>) => call("POST", "/assistants/search", { body });
    const ids = (answer: Answer) => (answer.body as Record<string, unknown>[]).map((a) => a["assistant_id"]);

    const all = await search({ metadata: { batch: "s" } });
    assert.equal(all.status, 200);
    assert.deepEqual(ids(all), [...made].reverse(), "newest first");
    assert.equal(all.headers.get("x-pagination-total"), "3");

    const page = await search({ metadata: { batch: "s" }, limit: 2, offset: 0, sort_by: "name", sort_order: "asc" });
    assert.deepEqual(ids(page), made.slice(0, 2));
    assert.equal(page.headers.get("x-pagination-next"), "2");
    assert.deepEqual(ids(await search({ metadata: { batch: "s" }, limit: 2, offset: 2, sort_by: "name" })), [made[0]]);

    assert.deepEqual(ids(await search({ graph_id: "router-js", name: "beta" })), [made[1]]);
    assert.deepEqual(ids(await search({ metadata: { batch: "s", i: 2 } })), [made[2]]);
    const defaults = await search({ graph_id: "router-js", metadata: { created_by: "system" } });
    assert.deepEqual(ids(defaults), [defaultAssistantId("router-js")]);

    const selected = await search({ metadata: { batch: "s", i: 0 }, select: ["assistant_id", "name"] });
    assert.deepEqual(selected.body, [{ assistant_id: made[0], name: "Alpha search" }]);

    const count = await call("POST", "/assistants/count", { body: { metadata: { batch: "s" } } });
    assert.equal(count.status, 200);
    assert.equal(count.body, 3);
    assert.equal((await call("POST", "/assistants/count", { body: { graph_id: "router-js" } })).body, 4);
    expectError(await search({ limit: 0 }), 400, "GBX_ERR_INVALID_REQUEST");
    expectError(await search({ sort_by: "config" }), 400, "GBX_ERR_INVALID_REQUEST");
  });

  for (const graphId of ["router", "router-js"]) {
    test(`/graph draws ${graphId}'s nodes and its conditional edges`, async () => {
      const drawing = expectStatus(await call("GET", `/assistants/${graphId}/graph`), 200);
      const nodes = drawing["nodes"] as { id: string; type: string }[];
      const edges = drawing["edges"] as { source: string; target: string; conditional?: boolean }[];
      assert.deepEqual(nodes.map((n) => n.id).sort(), ["__end__", "__start__", "big", "decide", "small"]);
      // LangGraph.js draws the ends as schemas; Python's drawing as its to_json() gives them.
      if (graphId === "router-js") assert.equal(nodes.find((n) => n.id === "__start__")?.type, "schema");
      assert.equal(nodes.find((n) => n.id === "decide")?.type, "runnable");
      assert.ok(
        edges.every((e) => typeof e.conditional === "boolean"),
        "as the JS server draws edges",
      );
      const drawn = edges.map((e) => `${e.source}->${e.target}${e.conditional === true ? " (conditional)" : ""}`);
      for (const edge of [
        "__start__->decide",
        "decide->big (conditional)",
        "decide->small (conditional)",
        "big->__end__",
        "small->__end__",
      ]) {
        assert.ok(drawn.includes(edge), `${edge} in ${JSON.stringify(drawn)}`);
      }
      // Drawn again by loading the program: the same graph, no subgraph in it.
      const xray = expectStatus(await call("GET", `/assistants/${graphId}/graph?xray=true`), 200);
      assert.deepEqual((xray["nodes"] as { id: string }[]).map((n) => n.id).sort(), nodes.map((n) => n.id).sort());
      expectError(await call("GET", `/assistants/${graphId}/graph?xray=maybe`), 400, "GBX_ERR_INVALID_REQUEST");
    });

    test(`/schemas gives ${graphId}'s state schema`, async () => {
      const schemas = expectStatus(await call("GET", `/assistants/${graphId}/schemas`), 200);
      assert.deepEqual(Object.keys(schemas).sort(), [
        "config_schema",
        "context_schema",
        "graph_id",
        "input_schema",
        "output_schema",
        "state_schema",
      ]);
      assert.equal(schemas["graph_id"], graphId);
      const state = schemas["state_schema"] as { properties?: Record<string, unknown> } | null;
      assert.ok(state?.properties && "value" in state.properties && "out" in state.properties, JSON.stringify(state));
    });
  }

  test("the JS SDK's assistants client, as a user calls it", async () => {
    const client = new Client({ apiUrl: engine.url, apiKey: ALICE });
    const made = await client.assistants.create({
      graphId: "router-js",
      name: "via sdk",
      metadata: { via: "sdk" },
      context: { user: "sdk" },
    });
    assert.equal(made.graph_id, "router-js");
    assert.deepEqual(made.context, { user: "sdk" });
    assert.equal((await client.assistants.get("router-js")).assistant_id, defaultAssistantId("router-js"));
    const updated = await client.assistants.update(made.assistant_id, { metadata: { step: 2 } });
    assert.deepEqual(updated.metadata, { via: "sdk", step: 2 });
    const page = await client.assistants.search({ metadata: { via: "sdk" }, includePagination: true });
    assert.deepEqual(
      page.assistants.map((a) => a.assistant_id),
      [made.assistant_id],
    );
    assert.equal(page.next, null);
    assert.equal(await client.assistants.count({ metadata: { via: "sdk" } }), 1);
    const graph = await client.assistants.getGraph(made.assistant_id, { xray: true });
    assert.ok(graph.edges.some((e) => e.source === "decide" && e.target === "big" && e.conditional === true));
    const schemas = await client.assistants.getSchemas(made.assistant_id);
    assert.equal(schemas.graph_id, "router-js");
    const versions = await client.assistants.getVersions(made.assistant_id);
    assert.deepEqual(
      versions.map((v) => v.version),
      [2],
    );
    await client.assistants.delete(made.assistant_id);
    await assert.rejects(client.assistants.get(made.assistant_id), (err: Error & { status?: number }) => {
      assert.equal(err.status, 404);
      assert.match(err.message, /^HTTP 404: .*Assistant not found/);
      return true;
    });
  });

  test("an unknown assistant: 404 with LangGraph's words in `detail`", async () => {
    const message = expectError(await call("GET", "/assistants/nobody"), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    assert.equal(message, "Assistant not found");
    expectError(await call("DELETE", "/assistants/nobody"), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("GET", "/assistants/nobody/graph"), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("GET", "/assistants/nobody/schemas"), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
  });

  test("resolveAssistant: a graph_id or an assistant_id, with its program; the runs' 404 otherwise", async () => {
    const store = engine.app.store;
    const byGraph = await resolveAssistant(store, "alice", "router");
    assert.equal(byGraph.assistantId, defaultAssistantId("router"));
    assert.equal(byGraph.graphId, "router");
    assert.deepEqual(byGraph.metadata, { created_by: "system" });
    assert.equal(byGraph.graph.graphId, "router");
    assert.equal(byGraph.graph.code, PYTHON_ROUTER);
    const made = expectStatus(await call("POST", "/assistants", { body: { graph_id: "router-js" } }), 200);
    const byId = await resolveAssistant(store, "alice", String(made["assistant_id"]));
    assert.equal(byId.graph.graphId, "router-js");
    assert.equal(byId.graph.language, "typescript");
    for (const [owner, id] of [
      ["alice", "nobody"],
      ["bob", "router"],
      ["bob", String(made["assistant_id"])],
    ] as const) {
      await assert.rejects(resolveAssistant(store, owner, id), (err: unknown) => {
        assert.ok(err instanceof GraphboxError);
        assert.equal(err.code, "GBX_ERR_ASSISTANT_NOT_FOUND");
        assert.equal(
          err.message,
          `No assistant found for "${id}". Make sure the assistant ID is for a valid assistant or a valid graph ID.`,
        );
        return true;
      });
    }
  });

  test("another key sees none of it: 404 for its graphs and assistants, its own of the same ids", async () => {
    const made = expectStatus(await call("POST", "/assistants", { body: { graph_id: "router" } }), 200);
    const id = String(made["assistant_id"]);
    expectError(await call("GET", "/graphs/router", { key: BOB }), 404, "GBX_ERR_GRAPH_NOT_FOUND");
    expectError(await call("DELETE", "/graphs/router", { key: BOB }), 404, "GBX_ERR_GRAPH_NOT_FOUND");
    expectError(await call("GET", "/assistants/router", { key: BOB }), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("GET", `/assistants/${id}`, { key: BOB }), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(
      await call("PATCH", `/assistants/${id}`, { key: BOB, body: { name: "mine" } }),
      404,
      "GBX_ERR_ASSISTANT_NOT_FOUND",
    );
    expectError(await call("DELETE", `/assistants/${id}`, { key: BOB }), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(await call("GET", `/assistants/${id}/graph`, { key: BOB }), 404, "GBX_ERR_ASSISTANT_NOT_FOUND");
    expectError(
      await call("POST", "/assistants", { key: BOB, body: { graph_id: "router" } }),
      404,
      "GBX_ERR_GRAPH_NOT_FOUND",
    );
    assert.deepEqual((await call("GET", "/graphs", { key: BOB })).body, []);
    assert.deepEqual((await call("POST", "/assistants/search", { key: BOB, body: {} })).body, []);
    assert.equal((await call("POST", "/assistants/count", { key: BOB, body: {} })).body, 0);

    // Bob's program of the same id is his own: version 1, Alice's untouched.
    const bobs = expectStatus(await register("router", { code: TYPESCRIPT_ROUTER }, BOB), 200);
    assert.equal(bobs["version"], 1);
    assert.equal(bobs["language"], "typescript");
    assert.equal(object(await call("GET", "/graphs/router"))["language"], "python");
    assert.equal(object(await call("GET", `/assistants/${id}`))["name"], "Untitled");
  });
});

describe("authentication and the server's own routes", () => {
  test("x-api-key is accepted as the SDKs send it; a wrong or missing key is 401", async () => {
    const ok = await call("GET", "/graphs", { key: null, headers: { "x-api-key": ALICE } });
    assert.equal(ok.status, 200);
    assert.ok(Array.isArray(ok.body));
    assert.deepEqual(ok.body, (await call("GET", "/graphs")).body, "the same owner as by bearer");
    const bobs = await call("GET", "/graphs", { key: null, headers: { "x-api-key": BOB } });
    assert.deepEqual(bobs.body, (await call("GET", "/graphs", { key: BOB })).body, "the key names the owner");
    assert.notDeepEqual(bobs.body, ok.body);
    const wrong = await call("GET", "/graphs", { key: null, headers: { "x-api-key": `${ALICE}x` } });
    assert.match(expectError(wrong, 401, "GBX_ERR_UNAUTHENTICATED"), /x-api-key/);
    expectError(await call("GET", "/graphs", { key: null }), 401, "GBX_ERR_UNAUTHENTICATED");
    // The contract's routes take it too, and a wrong bearer does not hide a right x-api-key.
    const execute = await call("POST", "/execute-langgraph", {
      key: "wrong",
      headers: { "x-api-key": ALICE },
      body: { code: "x = (", language: "python", inputs: {} },
    });
    assert.equal(object(execute)["error_type"], "syntax_error");
  });

  test("/ok and /info answer as LangGraph's servers, with the key", async () => {
    for (const prefix of ["", "/api"]) {
      assert.deepEqual(expectStatus(await call("GET", `${prefix}/ok`), 200), { ok: true });
      const info = expectStatus(
        await call("GET", `${prefix}/info`, { key: null, headers: { "x-api-key": ALICE } }),
        200,
      );
      assert.deepEqual(Object.keys(info), [
        "version",
        "langgraph_js_version",
        "context",
        "langgraph_py_version",
        "flags",
      ]);
      assert.equal(info["context"], "js");
      assert.match(String(info["version"]), /^\d+\.\d+\.\d+/);
      assert.match(String(info["langgraph_js_version"]), /^\d+\.\d+\.\d+/);
      assert.match(String(info["langgraph_py_version"]), /^\d+\.\d+\.\d+/);
      assert.deepEqual(info["flags"], {
        assistants: true,
        crons: false,
        langsmith: false,
        langsmith_tracing_replicas: true,
      });
      expectError(await call("GET", `${prefix}/info`, { key: null }), 401, "GBX_ERR_UNAUTHENTICATED");
      expectError(await call("GET", `${prefix}/ok`, { key: null }), 401, "GBX_ERR_UNAUTHENTICATED");
    }
  });

  test("the contract's errors keep their envelope without `detail`", async () => {
    const body = expectStatus(await call("GET", "/executions/nobody"), 404);
    assert.equal(body["code"], "GBX_ERR_EXECUTION_NOT_FOUND");
    assert.ok(!("detail" in body));
  });
});
