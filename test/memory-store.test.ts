/**
 * LangGraph's long-term memory store, end to end through real HTTP, real bubblewrap and real
 * LangGraph in both runtimes: a memory a node puts on one thread is found by another execution on
 * another thread, a program that compiled with `InMemoryStore()` gets the engine's store instead,
 * the HTTP routes see the same items, another API key sees none of them, the limits refuse what
 * is over them, and a store request no harness would send ends its run.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import { startEngine, type RunningEngine } from "./support/engine.ts";

type Body = Record<string, unknown>;

const MAX_ITEM_BYTES = 2048;
const MAX_ITEMS = 12;

/**
 * The memory how-to's shape: a node puts what it is told to remember under ("memories", user)
 * and answers what it finds there, newest first. `compile` says how the program compiles (with a
 * store of its own, or none); `get` how the node reaches the store.
 */
const pythonMemory = (options: { compile: string; node: string; get: string }): string => `
import uuid
from typing import TypedDict

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore


class State(TypedDict, total=False):
    user: str
    remember: str
    found: list
    via: str
    refused: str


def remember(${options.node}):
    store = ${options.get}
    ns = ("memories", state["user"])
    refused = ""
    if state.get("remember"):
        try:
            store.put(ns, str(uuid.uuid4()), {"text": state["remember"]})
        except Exception as err:
            refused = f"{type(err).__name__}: {err}"
    # A semantic query without an index: answered as a filter-only search.
    found = [item.value["text"] for item in store.search(ns, query="what does the user like?", limit=50)]
    return {"found": found, "via": type(store).__name__, "refused": refused}


workflow = StateGraph(State)
workflow.add_node("memorize", remember)
workflow.add_edge(START, "memorize")
workflow.add_edge("memorize", END)
app = workflow.${options.compile}
`;

const PYTHON_IN_MEMORY = pythonMemory({
  compile: "compile(store=InMemoryStore())",
  node: "state: State",
  get: "get_store()",
});
const PYTHON_INJECTED = pythonMemory({ compile: "compile()", node: "state: State, *, store: BaseStore", get: "store" });

const TYPESCRIPT_MEMORY = `
import { Annotation, END, getStore, InMemoryStore, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";

const State = Annotation.Root({
  user: Annotation<string>,
  remember: Annotation<string>,
  found: Annotation<string[]>,
  via: Annotation<string>,
  refused: Annotation<string>,
});

export const graph = new StateGraph(State)
  .addNode("memorize", async (state, config: LangGraphRunnableConfig) => {
    const store = config.store ?? getStore();
    if (!store) throw new Error("no store");
    if (getStore() === undefined) throw new Error("getStore() found no store");
    const ns = ["memories", state.user];
    let refused = "";
    if (state.remember) {
      try {
        await store.put(ns, crypto.randomUUID(), { text: state.remember });
      } catch (err) {
        refused = String(err);
      }
    }
    const items = await store.search(ns, { query: "what does the user like?", limit: 50 });
    return { found: items.map((item) => String(item.value.text)), via: "config.store", refused };
  })
  .addEdge(START, "memorize")
  .addEdge("memorize", END)
  .compile({ store: new InMemoryStore() });
`;

/** Calls the store's engine end with a request no harness sends. */
const PYTHON_FORGER = `
from typing import TypedDict

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    attack: str
    caught: str


def node(state: State):
    channel = get_store()._channel
    try:
        if state["attack"] == "namespace":
            channel.request("store", op="put", args={"namespace": "memories.u1", "key": "k", "value": {}})
        else:
            channel.request("store", op="search", args={"namespace_prefix": [], "filter": None, "limit": "all", "offset": 0, "query": None})
    except Exception as err:
        return {"caught": str(err)}  # too late: the engine ends the run
    return {"caught": ""}


workflow = StateGraph(State)
workflow.add_node("node", node)
workflow.add_edge(START, "node")
workflow.add_edge("node", END)
app = workflow.compile()
`;

const KEYS = { alice: `alice-${randomUUID()}`, bob: `bob-${randomUUID()}`, carol: `carol-${randomUUID()}` };
type Who = keyof typeof KEYS;

describe("LangGraph's long-term memory store", () => {
  let engine: RunningEngine;
  before(async () => {
    engine = await startEngine(undefined, {
      apiKeys: KEYS,
      storeMaxItemBytes: MAX_ITEM_BYTES,
      storeMaxItems: MAX_ITEMS,
    });
  });
  after(async () => engine.close());

  const auth = (who: Who) => ({ authorization: `Bearer ${KEYS[who]}` });

  /** Runs a program on a thread and returns its final state (the run must succeed). */
  async function run(who: Who, code: string, thread: string, inputs: Body): Promise<Body> {
    const answer = await engine.post("/execute-langgraph", { code, inputs, config: { thread_id: thread } }, auth(who));
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.body["status"], "success", JSON.stringify(answer.body));
    return (answer.body["result"] as Body)["state"] as Body;
  }

  async function call(
    who: Who,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: unknown; type: string | null }> {
    const response = await fetch(engine.url + path, {
      method,
      headers: { ...auth(who), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === "" ? undefined : JSON.parse(text),
      type: response.headers.get("content-type"),
    };
  }
  const search = async (who: Who, body: Body): Promise<Body[]> => {
    const answer = await call(who, "POST", "/store/items/search", body);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    return (answer.body as { items: Body[] }).items;
  };

  for (const [name, code, via] of [
    ["Python, compiled with InMemoryStore(), get_store()", PYTHON_IN_MEMORY, "EngineStore"],
    ["Python, compiled without a store, the node's store argument", PYTHON_INJECTED, "EngineStore"],
    ["TypeScript, compiled with new InMemoryStore(), config.store and getStore()", TYPESCRIPT_MEMORY, "config.store"],
  ] as const) {
    test(`${name}: a memory put on thread A is found on thread B, over HTTP, and by no other key`, async () => {
      const user = `user-${randomUUID()}`;
      const a = await run("alice", code, `a-${randomUUID()}`, { user, remember: "likes tea" });
      assert.deepEqual(a["found"], ["likes tea"]);
      assert.equal(a["via"], via, "the engine's store, in place of the program's");
      assert.equal(a["refused"], "");

      const b = await run("alice", code, `b-${randomUUID()}`, { user });
      assert.deepEqual(b["found"], ["likes tea"], "another execution on another thread finds it");
      const c = await run("alice", code, `c-${randomUUID()}`, { user, remember: "plays chess" });
      assert.deepEqual(c["found"], ["plays chess", "likes tea"], "newest first");

      const items = await search("alice", { namespace_prefix: ["memories", user] });
      assert.deepEqual(
        items.map((item) => item["value"]),
        [{ text: "plays chess" }, { text: "likes tea" }],
      );
      const first = items[1] as Body;
      assert.deepEqual(first["namespace"], ["memories", user]);
      const got = await call("alice", "GET", `/store/items?namespace=memories.${user}&key=${String(first["key"])}`);
      assert.deepEqual(got.body, first);

      // Bob runs the same program for the same user name: his store is his own.
      const theirs = await run("bob", code, `a-${randomUUID()}`, { user });
      assert.deepEqual(theirs["found"], []);
      assert.deepEqual(await search("bob", { namespace_prefix: ["memories", user] }), []);
      const missing = await call("bob", "GET", `/store/items?namespace=memories.${user}&key=${String(first["key"])}`);
      assert.equal(missing.status, 200);
      assert.equal(missing.body, null);
    });
  }

  test("what HTTP puts, a program finds; what it deletes, the program no longer finds", async () => {
    const user = `user-${randomUUID()}`;
    const put = await call("alice", "PUT", "/api/store/items", {
      namespace: ["memories", user],
      key: "from-http",
      value: { text: "speaks French" },
    });
    assert.equal(put.status, 204);
    assert.equal(put.body, undefined);
    assert.deepEqual((await run("alice", PYTHON_INJECTED, `t-${randomUUID()}`, { user }))["found"], ["speaks French"]);
    const deleted = await call("alice", "DELETE", "/store/items", { namespace: ["memories", user], key: "from-http" });
    assert.equal(deleted.status, 204);
    assert.deepEqual((await run("alice", TYPESCRIPT_MEMORY, `t-${randomUUID()}`, { user }))["found"], []);
  });

  test("the HTTP routes: put, get, search with a filter and pages, namespaces, delete", async () => {
    const tag = randomUUID();
    const put = async (namespace: string[], key: string, value: Body): Promise<void> => {
      const answer = await call("carol", "PUT", "/store/items", { namespace, key, value, index: false, ttl: null });
      assert.equal(answer.status, 204, JSON.stringify(answer.body));
    };
    await put(["docs", tag, "en"], "d1", { kind: "note", stars: 3 });
    await put(["docs", tag, "en"], "d2", { kind: "todo", stars: 5 });
    await put(["docs", tag, "fr"], "d3", { kind: "note", stars: 4, meta: { lang: "fr" } });

    const got = await call("carol", "GET", `/store/items?namespace=docs.${tag}.en&key=d1&refresh_ttl=true`);
    assert.equal(got.status, 200);
    const item = got.body as Body;
    assert.deepEqual(
      Object.keys(item),
      ["value", "key", "namespace", "created_at", "updated_at"],
      "the reference's order",
    );
    assert.deepEqual(item["namespace"], ["docs", tag, "en"]);
    assert.deepEqual(item["value"], { kind: "note", stars: 3 });
    assert.match(String(item["created_at"]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const missing = await call("carol", "GET", `/store/items?namespace=docs.${tag}&key=d1`);
    assert.equal(missing.status, 200);
    assert.match(String(missing.type), /^application\/json/);
    assert.equal(missing.body, null, "a missing item is 200 null, as LangGraph's server answers");

    const keys = async (body: Body): Promise<unknown[]> => (await search("carol", body)).map((i) => i["key"]);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag] }), ["d3", "d2", "d1"]);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag], filter: { kind: "note" } }), ["d3", "d1"]);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag], filter: { stars: { $gte: 4 } } }), ["d3", "d2"]);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag], filter: { meta: { lang: "fr" } } }), ["d3"]);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag], limit: 1, offset: 1 }), ["d2"]);
    assert.deepEqual(
      await keys({ namespace_prefix: ["docs", tag], query: "anything", refresh_ttl: null, filter: null }),
      ["d3", "d2", "d1"],
      "a query is answered as a filter-only search",
    );
    assert.deepEqual(await keys({ namespace_prefix: ["docs", `${tag}x`] }), []);

    const namespaces = async (body: Body): Promise<unknown> => {
      const answer = await call("carol", "POST", "/store/namespaces", body);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body as { namespaces: unknown }).namespaces;
    };
    assert.deepEqual(await namespaces({ prefix: ["docs", tag] }), [
      ["docs", tag, "en"],
      ["docs", tag, "fr"],
    ]);
    assert.deepEqual(await namespaces({ prefix: ["docs", tag], suffix: ["fr"] }), [["docs", tag, "fr"]]);
    assert.deepEqual(await namespaces({ prefix: ["docs", "*", "en"] }), [["docs", tag, "en"]]);
    assert.deepEqual(await namespaces({ prefix: ["docs"], max_depth: 2, limit: 100, offset: 0 }), [["docs", tag]]);

    assert.equal(
      (await call("carol", "DELETE", "/store/items", { namespace: ["docs", tag, "en"], key: "d1" })).status,
      204,
    );
    assert.equal(
      (await call("carol", "DELETE", "/store/items", { namespace: ["docs", tag, "en"], key: "d1" })).status,
      204,
    );
    assert.equal((await call("carol", "GET", `/store/items?namespace=docs.${tag}.en&key=d1`)).body, null);
    assert.deepEqual(await keys({ namespace_prefix: ["docs", tag] }), ["d3", "d2"]);
    for (const key of ["d2", "d3"]) {
      const namespace = key === "d2" ? ["docs", tag, "en"] : ["docs", tag, "fr"];
      assert.equal((await call("carol", "DELETE", "/store/items", { namespace, key })).status, 204);
    }
  });

  test("malformed store requests over HTTP are 400s naming the field", async () => {
    const refused = async (method: string, path: string, body: unknown, field: RegExp): Promise<void> => {
      const answer = await call("carol", method, path, body);
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal((answer.body as Body)["code"], "GBX_ERR_INVALID_REQUEST");
      assert.match(String((answer.body as Body)["error"]), field);
    };
    await refused("PUT", "/store/items", { namespace: ["a.b"], key: "k", value: {} }, /namespace\[0\]/);
    await refused("PUT", "/store/items", { namespace: [], key: "k", value: {} }, /namespace/);
    await refused("PUT", "/store/items", { namespace: ["a"], key: "k", value: [1] }, /value/);
    await refused("PUT", "/store/items", { namespace: ["a"], key: "k" }, /value/);
    await refused("POST", "/store/items/search", { namespace_prefix: ["a"], limit: 5000 }, /limit/);
    await refused("POST", "/store/namespaces", { max_depth: 0 }, /max_depth/);
    await refused("GET", "/store/items?namespace=a..b&key=k", undefined, /namespace/);
    await refused("GET", "/store/items?namespace=a", undefined, /key/);
  });

  test("limits: an item over GRAPHBOX_STORE_MAX_ITEM_BYTES, a key past GRAPHBOX_STORE_MAX_ITEMS", async () => {
    // Carol's own items (the other tests delete theirs): none when this starts.
    assert.deepEqual(await search("carol", { namespace_prefix: [] }), []);
    const big = { text: "x".repeat(MAX_ITEM_BYTES) };
    const over = await call("carol", "PUT", "/store/items", { namespace: ["big"], key: "k", value: big });
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.equal((over.body as Body)["code"], "GBX_ERR_STORE_LIMIT");
    assert.match(String((over.body as Body)["error"]), /GRAPHBOX_STORE_MAX_ITEM_BYTES/);

    // A program's put over the limit raises in the node; the run goes on.
    for (const code of [PYTHON_INJECTED, TYPESCRIPT_MEMORY]) {
      const state = await run("carol", code, `big-${randomUUID()}`, {
        user: "big",
        remember: "y".repeat(MAX_ITEM_BYTES),
      });
      assert.match(String(state["refused"]), /over the limit of 2048 bytes \(GRAPHBOX_STORE_MAX_ITEM_BYTES\)/);
      assert.deepEqual(state["found"], []);
    }

    for (let i = 0; i < MAX_ITEMS; i++) {
      const answer = await call("carol", "PUT", "/store/items", { namespace: ["many"], key: `k${i}`, value: { i } });
      assert.equal(answer.status, 204, JSON.stringify(answer.body));
    }
    const past = await call("carol", "PUT", "/store/items", { namespace: ["many"], key: "one-more", value: {} });
    assert.equal(past.status, 422);
    assert.match(String((past.body as Body)["error"]), /GRAPHBOX_STORE_MAX_ITEMS/);
    const state = await run("carol", PYTHON_IN_MEMORY, `many-${randomUUID()}`, { user: "u", remember: "one more" });
    assert.match(String(state["refused"]), /EngineRequestError: .*GRAPHBOX_STORE_MAX_ITEMS/);
    const update = await call("carol", "PUT", "/store/items", { namespace: ["many"], key: "k0", value: { i: "new" } });
    assert.equal(update.status, 204, "an update is not a new item");
    const others = await call("bob", "PUT", "/store/items", { namespace: ["many"], key: "one-more", value: {} });
    assert.equal(others.status, 204, "the count is per API key");
    for (let i = 0; i < MAX_ITEMS; i++)
      await call("carol", "DELETE", "/store/items", { namespace: ["many"], key: `k${i}` });
  });

  for (const attack of ["namespace", "limit"]) {
    test(`a forged store request (${attack} of the wrong type) ends the run as sandbox_error`, async () => {
      const answer = await engine.post(
        "/execute-langgraph",
        { code: PYTHON_FORGER, inputs: { attack }, config: { thread_id: `forge-${randomUUID()}` } },
        auth("alice"),
      );
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body["status"], "error", JSON.stringify(answer.body));
      assert.equal(answer.body["error_type"], "sandbox_error");
      assert.match(String(answer.body["error"]), /^the program sent a forged store request: /);
      // The engine is fine: the same key runs the next program.
      const user = `user-${randomUUID()}`;
      assert.deepEqual((await run("alice", PYTHON_INJECTED, `t-${randomUUID()}`, { user, remember: "ok" }))["found"], [
        "ok",
      ]);
    });
  }
});
