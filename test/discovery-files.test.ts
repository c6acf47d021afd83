/**
 * Graph discovery (the one graph a program defines, under any name, exported or not; `config.graph`
 * among several) and programs of several files (`files`), through real HTTP in both runtimes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { programFiles } from "../src/http/files.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { lineOf } from "./support/programs.ts";

type Json = Record<string, unknown>;
type Language = "python" | "typescript" | "javascript";

/** What no answer may show: the engine's and the runtime's install paths, the program's tmp file. */
const ENGINE_PATHS =
  /\/work\/|\/src\/runtimes|\/opt\/graphbox|site-packages|node_modules|graphbox-program-|workflow\.mjs|file:\/\//;

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

async function run(body: { code: string; language: Language; files?: Record<string, string>; config?: Json }) {
  return engine.post("/execute-langgraph", { inputs: { value: 1 }, ...body });
}

function state(body: Json): unknown {
  assert.equal(body["status"], "success", JSON.stringify(body));
  return (body["result"] as { state: unknown }).state;
}

function nodesExecuted(body: Json): unknown {
  return (body["result"] as { metadata: { nodes_executed: unknown } }).metadata.nodes_executed;
}

function assertNoEnginePaths(body: Json): void {
  for (const field of ["error", "traceback"])
    assert.doesNotMatch(String(body[field] ?? ""), ENGINE_PATHS, `${field}: ${String(body[field])}`);
}

// Python: a one-node graph builder, then the graphs the tests name.
const PY_BASE = `from typing import TypedDict
from langgraph.graph import StateGraph, START, END


class State(TypedDict, total=False):
    value: int
    out: str


def one_node(name: str, out: str) -> StateGraph:
    builder = StateGraph(State)
    builder.add_node(name, lambda state: {"out": out})
    builder.add_edge(START, name)
    builder.add_edge(name, END)
    return builder
`;

const TS_BASE = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";

const State = Annotation.Root({
  value: Annotation<number>(),
  out: Annotation<string>(),
});

function oneNode(name: string, out: string) {
  return new StateGraph(State).addNode(name, () => ({ out })).addEdge(START, name).addEdge(name, END);
}
`;

for (const [name, language, code] of [
  ["Python", "python", `${PY_BASE}\nagent = one_node("answer", "from agent").compile()\n`],
  ["TypeScript", "typescript", `${TS_BASE}\nexport const agent = oneNode("answer", "from agent").compile();\n`],
] as const) {
  test(`${name}: a program whose only graph is named \`agent\` runs`, async () => {
    const { status, body } = await run({ code, language });
    assert.equal(status, 200);
    assert.deepEqual(state(body), { value: 1, out: "from agent" });
  });
}

test("TypeScript: a graph defined without `export` (`const myGraph = ...compile()`) runs", async () => {
  const code = `${TS_BASE}\nconst builder2 = oneNode("answer", "not exported");\nconst myGraph = builder2.compile();\n`;
  const { body } = await run({ code, language: "typescript" });
  assert.deepEqual(state(body), { value: 1, out: "not exported" });
});

test("JavaScript: a StateGraph defined without `export` and never compiled is compiled and runs", async () => {
  const code = `import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
const State = Annotation.Root({ value: Annotation(), out: Annotation() });
let pipeline = new StateGraph(State)
  .addNode("answer", () => ({ out: "from a builder" }))
  .addEdge(START, "answer")
  .addEdge("answer", END);
`;
  const { body } = await run({ code, language: "javascript" });
  assert.deepEqual(state(body), { value: 1, out: "from a builder" });
});

// A graph that exists only once a promise settles, as LangGraph's servers accept one.
const LATER = `await new Promise((resolve) => setTimeout(resolve, 5));`;
for (const [what, code, config] of [
  [
    "exported as a Promise",
    `${TS_BASE}\nexport const graph = (async () => {\n  ${LATER}\n  return oneNode("answer", "later").compile();\n})();\n`,
    {},
  ],
  [
    "a Promise under any name",
    `${TS_BASE}\nexport const pending = (async () => oneNode("answer", "later").compile())();\n`,
    {},
  ],
  [
    "made by an async factory config.graph names",
    `${TS_BASE}\nexport async function makeGraph() {\n  ${LATER}\n  return oneNode("answer", "later");\n}\n`,
    { graph: "makeGraph" },
  ],
] as const) {
  test(`TypeScript: a graph ${what} runs`, async () => {
    const { status, body } = await run({ code, language: "typescript", config });
    assert.equal(status, 200);
    assert.deepEqual(state(body), { value: 1, out: "later" });
  });
}

test("Python: a graph made by an async create_app(), or by an async factory config.graph names, runs", async () => {
  const factory = (name: string) =>
    `${PY_BASE}\nimport asyncio\n\n\nasync def ${name}():\n    await asyncio.sleep(0.005)\n    return one_node("answer", "later").compile()\n`;
  const created = await run({ code: factory("create_app"), language: "python" });
  assert.deepEqual(state(created.body), { value: 1, out: "later" });
  const named = await run({ code: factory("make_graph"), language: "python", config: { graph: "make_graph" } });
  assert.deepEqual(state(named.body), { value: 1, out: "later" });
});

// A supervisor over two agents: three compiled graphs at the top level, one holding the other two.
const SUPERVISORS = {
  python: `${PY_BASE}
research_agent = one_node("research", "researched").compile()
math_agent = one_node("math", "counted").compile()
team = StateGraph(State)
team.add_node("research_agent", research_agent)
team.add_node("math_agent", math_agent)
team.add_edge(START, "research_agent")
team.add_edge("research_agent", "math_agent")
team.add_edge("math_agent", END)
supervisor = team.compile()
`,
  typescript: `${TS_BASE}
const researchAgent = oneNode("research", "researched").compile();
const mathAgent = oneNode("math", "counted").compile();
const supervisor = new StateGraph(State)
  .addNode("research_agent", researchAgent)
  .addNode("math_agent", mathAgent)
  .addEdge(START, "research_agent")
  .addEdge("research_agent", "math_agent")
  .addEdge("math_agent", END)
  .compile();
`,
} as const;

for (const language of ["python", "typescript"] as const) {
  test(`${language}: \`supervisor\` runs, not one of the agents it holds as subgraphs`, async () => {
    const { body } = await run({ code: SUPERVISORS[language], language });
    assert.deepEqual(state(body), { value: 1, out: "counted" });
    assert.deepEqual(nodesExecuted(body), ["research_agent", "math_agent"]);
  });
}

const TWO_GRAPHS = {
  python: `${PY_BASE}\nfirst_graph = one_node("first", "one").compile()\nsecond_graph = one_node("second", "two").compile()\n`,
  typescript: `${TS_BASE}\nexport const firstGraph = oneNode("first", "one").compile();\nconst secondGraph = oneNode("second", "two").compile();\n`,
} as const;
const NAMES = { python: ["first_graph", "second_graph"], typescript: ["firstGraph", "secondGraph"] } as const;

for (const language of ["python", "typescript"] as const) {
  const [first, second] = NAMES[language];
  test(`${language}: two graphs answer no_app naming both and config.graph; config.graph picks one`, async () => {
    const { status, body } = await run({ code: TWO_GRAPHS[language], language });
    assert.equal(status, 200);
    assert.equal(body["error_type"], "no_app", JSON.stringify(body));
    assert.equal(body["code"], "GBX_ERR_NO_APP");
    assert.match(
      String(body["error"]),
      new RegExp(`defines 2 graphs \\(\`${first}\`, \`${second}\`\\): set \`config\\.graph\` to the name of the one`),
    );

    const picked = await run({ code: TWO_GRAPHS[language], language, config: { graph: second } });
    assert.deepEqual(state(picked.body), { value: 1, out: "two" });
    assert.deepEqual(nodesExecuted(picked.body), ["second"]);

    const wrong = await run({ code: TWO_GRAPHS[language], language, config: { graph: "third" } });
    assert.equal(wrong.body["error_type"], "no_app");
    assert.equal(
      wrong.body["error"],
      `config.graph is 'third', which the program does not define; the program's graphs are ['${first}', '${second}']`,
    );
  });
}

test("config.graph wins over `app`, and is checked as a request field", async () => {
  const code = `${PY_BASE}\napp = one_node("first", "one").compile()\nother = one_node("second", "two").compile()\n`;
  const { body } = await run({ code, language: "python", config: { graph: "other" } });
  assert.deepEqual(state(body), { value: 1, out: "two" });
  const empty = await run({ code, language: "python", config: { graph: "" } });
  assert.equal(empty.status, 400);
  assert.match(String(empty.body["error"]), /`config.graph` must not be empty/);
});

// Three files: the entry, its state, a tool in a folder; relative and absolute imports.
const PY_STATE = `from typing import TypedDict


class State(TypedDict, total=False):
    value: int
    out: str


def label(value: int) -> str:
    return f"value {value}"
`;
const PY_SEARCH = `from ..state import State, label
from state import State as SameState


def search(state: State) -> dict:
    if state["value"] > 100:
        raise ValueError(f"no result for {state['value']}")
    return {"out": f"{label(state['value'])}, one class: {State is SameState}"}
`;
const PY_ENTRY = `from langgraph.graph import StateGraph, START, END

from .state import State
from tools.search import search

builder = StateGraph(State)
builder.add_node("search", search)
builder.add_edge(START, "search")
builder.add_edge("search", END)
graph = builder.compile()
`;

const TS_STATE = `import { Annotation } from "@langchain/langgraph";

export interface Labelled {
  text: string;
}

export const State = Annotation.Root({
  value: Annotation<number>(),
  out: Annotation<string>(),
});

export function label(value: number): Labelled {
  return { text: \`value \${value}\` };
}
`;
const TS_SEARCH = `import { State, label, type Labelled } from "../state.js";

export async function search(state: typeof State.State): Promise<Partial<typeof State.State>> {
  const found: Labelled = label(state.value);
  if (state.value > 100) {
    throw new RangeError(\`no result for \${state.value}\`);
  }
  return { out: \`\${found.text}, from a file\` };
}
`;
const TS_ENTRY = `import { StateGraph, START, END } from "@langchain/langgraph";

import { State } from "./state.js";
import { search } from "./tools/search";

const app = new StateGraph(State).addNode("search", search).addEdge(START, "search").addEdge("search", END).compile();
`;

const PROGRAMS = {
  python: { code: PY_ENTRY, files: { "state.py": PY_STATE, "tools/search.py": PY_SEARCH } },
  typescript: { code: TS_ENTRY, files: { "state.ts": TS_STATE, "tools/search.ts": TS_SEARCH } },
} as const;

test("Python: a three-file program with relative and absolute imports runs, its modules one each", async () => {
  const { body } = await run({ ...PROGRAMS.python, language: "python", files: { ...PROGRAMS.python.files } });
  assert.deepEqual(state(body), { value: 1, out: "value 1, one class: True" });
});

test("Python: a file named like a standard module is reached by relative import; `import graphlib` is still the standard one", async () => {
  const code = `${PY_BASE}\nfrom .graphlib import NAME\nimport graphlib\napp = one_node("answer", f"{NAME} {graphlib.TopologicalSorter.__module__}").compile()\n`;
  const { body } = await run({ code, language: "python", files: { "graphlib.py": 'NAME = "mine"\n' } });
  assert.deepEqual(state(body), { value: 1, out: "mine graphlib" });
});

test("TypeScript: a three-file program with relative imports runs", async () => {
  const { body } = await run({
    ...PROGRAMS.typescript,
    language: "typescript",
    files: { ...PROGRAMS.typescript.files },
  });
  assert.deepEqual(state(body), { value: 1, out: "value 1, from a file" });
});

test("Python: an exception raised in a helper file names that file and line", async () => {
  const { body } = await engine.post("/execute-langgraph", {
    ...PROGRAMS.python,
    language: "python",
    inputs: { value: 101 },
  });
  assert.equal(body["error_type"], "program_error", JSON.stringify(body));
  assert.equal(body["node"], "search");
  assert.equal(body["error"], "ValueError: no result for 101");
  const line = lineOf(PY_SEARCH, "raise ValueError");
  assert.match(
    String(body["traceback"]),
    new RegExp(`File "tools/search\\.py", line ${line}, in search\\n +raise ValueError`),
    String(body["traceback"]),
  );
  assertNoEnginePaths(body);
});

test("TypeScript: an exception thrown in a helper file names that file and line, through the source map", async () => {
  const { body } = await engine.post("/execute-langgraph", {
    ...PROGRAMS.typescript,
    language: "typescript",
    inputs: { value: 101 },
  });
  assert.equal(body["error_type"], "program_error", JSON.stringify(body));
  assert.equal(body["node"], "search");
  assert.equal(body["error"], "RangeError: no result for 101");
  const line = lineOf(TS_SEARCH, "throw new RangeError");
  assert.match(
    String(body["traceback"]),
    new RegExp(`\\n    at \\S*search(?: \\[as func\\])? \\(tools/search\\.ts:${line}:\\d+\\)`),
  );
  assertNoEnginePaths(body);
});

test("a syntax error in a helper file names that file, line and column, in both runtimes", async () => {
  const python = await run({
    code: PY_ENTRY,
    language: "python",
    files: { "state.py": PY_STATE, "tools/search.py": "def search(state):\n    return {'out': }\n" },
  });
  assert.equal(python.body["error_type"], "syntax_error", JSON.stringify(python.body));
  assert.match(String(python.body["traceback"]), /File "tools\/search\.py", line 2/);
  const typescript = await run({
    code: TS_ENTRY,
    language: "typescript",
    files: { "state.ts": TS_STATE, "tools/search.ts": "export const search = (: number) => 1;\n" },
  });
  assert.equal(typescript.body["error_type"], "syntax_error", JSON.stringify(typescript.body));
  assert.match(String(typescript.body["error"]), /\(tools\/search\.ts:1:24\)$/);
  assert.match(String(typescript.body["traceback"]), /^tools\/search\.ts:1:24\nexport const search = \(: number\)/);
});

test("an import of a file the program did not send names the files it did", async () => {
  const { body } = await run({ code: TS_ENTRY, language: "typescript", files: { "state.ts": TS_STATE } });
  assert.equal(body["error_type"], "program_error");
  assert.equal(
    body["error"],
    'ImportError: cannot import "./tools/search": no such file among the program\'s `files` (state.ts) (<workflow>:4:24)',
  );
});

for (const [files, problem] of [
  [{ "../state.py": "" }, /`files` name "\.\.\/state\.py" has an empty, `\.` or `\.\.` part/],
  [{ "/etc/state.py": "" }, /`files` name "\/etc\/state\.py" is absolute/],
  [{ "tools\\search.py": "" }, /`files` name "tools\\\\search\.py" has a backslash/],
  [{ "state.txt": "" }, /`files` name "state\.txt" is not a python module: it must end in `\.py`/],
  [{ "my-state.py": "" }, /`files` name "my-state\.py" cannot be imported: each folder and the file's name/],
  [{ "st ate.py": "" }, /may hold only letters, digits/],
  [{ "__init__.py": "" }, /is the package's own module, which `code` is/],
  [{ "tools.py": "", "tools/search.py": "" }, /`files` name "tools\.py" names the same module as a folder/],
] as const) {
  test(`a bad file name is a 400 naming it: ${Object.keys(files).join(", ")}`, async () => {
    const { status, body } = await run({ code: PY_ENTRY, language: "python", files });
    assert.equal(status, 400);
    assert.equal(body["code"], "GBX_ERR_INVALID_REQUEST");
    assert.match(String(body["error"]), problem);
  });
}

test("a TypeScript program's files must be JavaScript, TypeScript or JSON", async () => {
  const { status, body } = await run({ code: TS_ENTRY, language: "typescript", files: { "state.py": "" } });
  assert.equal(status, 400);
  assert.match(String(body["error"]), /`files` name "state\.py" is not a typescript module: it must end in `\.ts`/);
});

test("more files than GRAPHBOX_MAX_FILES is a 400 naming the limit", async () => {
  const files = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`m${i}.py`, ""]));
  const { status, body } = await run({ code: PY_ENTRY, language: "python", files });
  assert.equal(status, 400);
  assert.equal(body["error"], "`files` holds 65 files; GRAPHBOX_MAX_FILES allows 64");
});

test("files over GRAPHBOX_MAX_FILES_BYTES are refused, names and sources counted", () => {
  const config = loadConfig({ GRAPHBOX_MAX_FILES_BYTES: "1024" });
  assert.deepEqual(programFiles({ "a.py": "x".repeat(1020) }, "python", config), { "a.py": "x".repeat(1020) });
  assert.throws(
    () => programFiles({ "a.py": "x".repeat(1021) }, "python", config),
    /`files` holds 1025 bytes; GRAPHBOX_MAX_FILES_BYTES allows 1024/,
  );
});
