/**
 * Types a program defines survive its thread's checkpoints, through real HTTP, real bubblewrap
 * and real LangGraph. Python: pydantic models, dataclasses, enums and named tuples come back as
 * the program's classes on the thread's next run, forked from the zygote or fresh, without
 * LangGraph's "Deserializing unregistered type" warning (which also no longer comes from a saver
 * the program makes itself), while a type of a module the reading run has not imported, or one
 * that is no data class, still loads as its stored arguments. TypeScript: state schemas written
 * with zod v3 and zod v4 run with their reducers, and what a plain class instance becomes.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, test } from "node:test";

import type { Config } from "../src/config/index.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";

type Json = Record<string, unknown>;

const resultOf = (body: Json): Json => (body["result"] ?? {}) as Json;
const stateOf = (body: Json): Json => (resultOf(body)["state"] ?? {}) as Json;
const logsOf = (body: Json): string =>
  String((((body["status"] === "error" ? body["metadata"] : resultOf(body)["metadata"]) ?? {}) as Json)["logs"] ?? "");

/** LangGraph's lines about checkpoint types it did not expect ("Deserializing unregistered type", "Blocked"). */
const SERDE_WARNING = /unregistered|Deserializing|Blocked deserialization|Could not reconstruct/;

/** A program keeping its own classes in state; each run reports what the previous one left there. */
const PROGRAM_TYPES = `
import dataclasses
import enum
from typing import Any, NamedTuple, Optional, TypedDict

from pydantic import BaseModel
from langgraph.graph import END, START, StateGraph


class Point(BaseModel):
    x: int
    y: int

    def total(self) -> int:
        return self.x + self.y


@dataclasses.dataclass
class Box:
    width: int
    height: int


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Pair(NamedTuple):
    left: str
    right: str


class Note(TypedDict):
    text: str


class State(TypedDict, total=False):
    point: Optional[Point]
    box: Optional[Box]
    color: Optional[Color]
    pair: Optional[Pair]
    note: Optional[Note]
    untyped: Any  # the schema does not name the class: the program's module does
    seen: dict


FIELDS = ("point", "box", "color", "pair", "note", "untyped")


def step(state: State):
    seen = {name: type(state.get(name)).__name__ for name in FIELDS}
    if isinstance(state.get("point"), Point):
        seen["total"] = state["point"].total()  # a method: an instance of the class, not its fields
    return {
        "point": Point(x=1, y=2), "box": Box(3, 4), "color": Color.BLUE, "pair": Pair("a", "b"),
        "note": {"text": "kept"}, "untyped": Point(x=5, y=6), "seen": seen,
    }


workflow = StateGraph(State)
workflow.add_node("step", step)
workflow.add_edge(START, "step")
workflow.add_edge("step", END)
app = workflow.compile()
`;

/**
 * LangGraph's persistence how-to as pasted: the program runs its own graph with a MemorySaver
 * (and a node cache) at the top level and reads the state back, before the engine runs it.
 */
const OWN_SAVER = `
from typing import Optional, TypedDict

from pydantic import BaseModel
from langgraph.cache.memory import InMemoryCache
from langgraph.checkpoint.memory import MemorySaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import CachePolicy


class Point(BaseModel):
    x: int
    y: int


class State(TypedDict, total=False):
    point: Optional[Point]
    seen: Optional[str]


def step(state: State):
    return {"point": Point(x=1, y=2), "seen": type(state.get("point")).__name__}


builder = StateGraph(State)
builder.add_node("step", step, cache_policy=CachePolicy())
builder.add_edge(START, "step")
builder.add_edge("step", END)
graph = builder.compile(checkpointer=MemorySaver())
local = {"configurable": {"thread_id": "local"}}
graph.invoke({}, local)
print("saver:", type(graph.get_state(local).values["point"]).__name__, graph.invoke({}, local)["seen"])

cached = builder.compile(cache=InMemoryCache())
cached.invoke({})
print("cache:", type(cached.invoke({})["point"]).__name__)
`;

/**
 * One run writes a type of a module the next run never imports (pstats) and one that is no data
 * class (pydantic's SecretStr); the next run on the thread reports what it got.
 */
const FOREIGN_TYPES = `
import sys
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph


class State(TypedDict, total=False):
    write: bool
    kind: Any
    secret: Any
    seen: dict


def step(state: State):
    if state.get("write"):
        import pstats
        from pydantic import SecretStr
        return {"kind": pstats.SortKey.CALLS, "secret": SecretStr("s3cret"), "write": False}
    return {"seen": {
        "kind": [type(state["kind"]).__name__, state["kind"]],
        "secret": [type(state["secret"]).__name__, state["secret"]],
        "pstats imported": "pstats" in sys.modules,
    }}


workflow = StateGraph(State)
workflow.add_node("step", step)
workflow.add_edge(START, "step")
workflow.add_edge("step", END)
app = workflow.compile()
`;

/** Python executions start two ways: a fork of the warm zygote, or a fresh interpreter. */
const VARIANTS: { name: string; overrides: Partial<Config>; forkServer: string }[] = [
  { name: "forked from the zygote", overrides: { pythonForkServer: true }, forkServer: "warm" },
  { name: "fresh", overrides: { pythonForkServer: false }, forkServer: "off" },
];

for (const variant of VARIANTS)
  describe(`Python program types in checkpoints (${variant.name})`, () => {
    let engine: RunningEngine;
    before(async () => {
      engine = await startEngine(undefined, variant.overrides);
      assert.equal(engine.app.engine.supply.report().pythonForkServer.state, variant.forkServer);
    });
    after(async () => engine.close());

    const run = async (code: string, thread: string, inputs: Json): Promise<Json> => {
      const { status, body } = await engine.post("/execute-langgraph", { code, inputs, config: { thread_id: thread } });
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body["status"], "success", JSON.stringify(body));
      return body;
    };

    test("a pydantic model, a dataclass, an enum and a named tuple come back as the program's classes, quietly", async () => {
      const thread = `types-${randomUUID()}`;
      const first = await run(PROGRAM_TYPES, thread, {});
      assert.deepEqual(stateOf(first)["seen"], {
        point: "NoneType",
        box: "NoneType",
        color: "NoneType",
        pair: "NoneType",
        note: "NoneType",
        untyped: "NoneType",
      });
      const second = await run(PROGRAM_TYPES, thread, {});
      assert.deepEqual(stateOf(second)["seen"], {
        point: "Point",
        box: "Box",
        color: "Color",
        pair: "Pair",
        note: "dict", // a TypedDict value is a dict, as LangGraph keeps it
        untyped: "Point",
        total: 3,
      });
      for (const body of [first, second]) assert.doesNotMatch(logsOf(body), SERDE_WARNING, JSON.stringify(body));
      // The JSON view of the same state: models and dataclasses as their fields, enums as their value.
      const state = stateOf(second);
      assert.deepEqual(
        [state["point"], state["box"], state["color"], state["untyped"]],
        [{ x: 1, y: 2 }, { width: 3, height: 4 }, "blue", { x: 5, y: 6 }],
      );
    });

    test("a saver and a cache the program makes itself read its classes back without a warning", async () => {
      const body = await run(OWN_SAVER, `own-saver-${randomUUID()}`, {});
      const logs = logsOf(body);
      assert.match(logs, /^saver: Point Point$/m, logs);
      assert.match(logs, /^cache: Point$/m, logs);
      assert.doesNotMatch(logs, SERDE_WARNING, logs);
    });

    test("a type of a module the reading run has not imported, or one that is no data class, loads as its arguments", async () => {
      const thread = `foreign-${randomUUID()}`;
      await run(FOREIGN_TYPES, thread, { write: true });
      const next = await run(FOREIGN_TYPES, thread, { write: false });
      assert.deepEqual(stateOf(next)["seen"], {
        kind: ["str", "calls"],
        secret: ["str", "s3cret"],
        "pstats imported": false,
      });
      const logs = logsOf(next);
      assert.match(logs, /Blocked deserialization of pstats\.SortKey/, logs);
      assert.match(logs, /Blocked deserialization of pydantic\.types\.SecretStr/, logs);
    });
  });

describe("TypeScript state schemas and classes in checkpoints", () => {
  let engine: RunningEngine;
  before(async () => (engine = await startEngine()));
  after(async () => engine.close());

  const run = async (code: string, thread: string): Promise<Json> => {
    const { status, body } = await engine.post("/execute-langgraph", {
      code,
      language: "typescript",
      inputs: {},
      config: { thread_id: thread },
    });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body["status"], "success", JSON.stringify(body));
    return body;
  };

  /** A graph over `State` whose one node appends to `items` (the reducer's field) and counts its runs. */
  const graphOver = (schema: string): string => `${schema}

export const app = new StateGraph(State)
  .addNode("add", (state: { items: string[]; count?: number }) => ({
    items: ["run " + state.items.length],
    count: (state.count ?? 0) + 1,
  }))
  .addEdge(START, "add")
  .addEdge("add", END)
  .compile();
`;

  const SCHEMAS: { name: string; code: string }[] = [
    {
      name: "zod v3 (zod/v3) with withLangGraph",
      code: `import { z } from "zod/v3";
import { StateGraph, START, END } from "@langchain/langgraph";
import { withLangGraph } from "@langchain/langgraph/zod";

const State = z.object({
  items: withLangGraph(z.array(z.string()), {
    reducer: { fn: (a: string[], b: string[]) => a.concat(b), schema: z.array(z.string()) },
    default: () => [],
  }),
  count: z.number().optional(),
});`,
    },
    {
      name: "zod v3 (zod/v3) with the .langgraph.reducer() plugin",
      code: `import { z } from "zod/v3";
import "@langchain/langgraph/zod";
import { StateGraph, START, END } from "@langchain/langgraph";

const State = z.object({
  items: z
    .array(z.string())
    .default([])
    .langgraph.reducer((a: string[], b: string[]) => a.concat(b), z.array(z.string())),
  count: z.number().optional(),
});`,
    },
    {
      name: "zod v4 (zod) with LangGraph's registry",
      code: `import { z } from "zod";
import { StateGraph, START, END } from "@langchain/langgraph";
import { registry } from "@langchain/langgraph/zod";

const State = z.object({
  items: z.array(z.string()).register(registry, {
    reducer: { fn: (a: string[], b: string[]) => a.concat(b), schema: z.array(z.string()) },
    default: () => [],
  }),
  count: z.number().optional(),
});`,
    },
    {
      name: "zod v4 (zod/v4) in a StateSchema with a ReducedValue",
      code: `import { z } from "zod/v4";
import { StateGraph, START, END, StateSchema, ReducedValue } from "@langchain/langgraph";

const State = new StateSchema({
  items: new ReducedValue(z.array(z.string()).default(() => []), {
    reducer: (a: string[], b: string[]) => a.concat(b),
  }),
  count: z.number().optional(),
});`,
    },
  ];

  for (const schema of SCHEMAS)
    test(`a state schema in ${schema.name} runs its reducer across a thread's runs`, async () => {
      const thread = `zod-${randomUUID()}`;
      const code = graphOver(schema.code);
      assert.deepEqual(stateOf(await run(code, thread)), { items: ["run 0"], count: 1 });
      assert.deepEqual(stateOf(await run(code, thread)), { items: ["run 0", "run 1"], count: 2 });
    });

  test("a class instance is itself within a run and its own fields in the thread's next run", async () => {
    const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";

class Point {
  constructor(public x: number, public y: number) {}
  total() {
    return this.x + this.y;
  }
}

const describe = (value: unknown) =>
  value instanceof Point ? "Point " + value.total() : value === undefined ? "none" : "object " + JSON.stringify(value);

const State = Annotation.Root({
  point: Annotation<unknown>(),
  seen: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

export const app = new StateGraph(State)
  .addNode("make", (state: typeof State.State) => ({ point: new Point(1, 2), seen: ["make: " + describe(state.point)] }))
  .addNode("read", (state: typeof State.State) => ({ seen: ["read: " + describe(state.point)] }))
  .addEdge(START, "make")
  .addEdge("make", "read")
  .addEdge("read", END)
  .compile();
`;
    const thread = `js-class-${randomUUID()}`;
    assert.deepEqual(stateOf(await run(code, thread))["seen"], ["make: none", "read: Point 3"]);
    const next = stateOf(await run(code, thread));
    assert.deepEqual(next["seen"], ["make: none", "read: Point 3", 'make: object {"x":1,"y":2}', "read: Point 3"]);
    assert.deepEqual(next["point"], { x: 1, y: 2 });
  });
});
