/**
 * "The same program in Python and in TypeScript gives the same JSON shapes" (CONTRACT.md), checked
 * case by case on the shared corpus: both answers are masked where they legitimately differ (each
 * mask says why) and must then be equal, values included.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import { corpus, languageOf, programSource, type CaseStep, type CorpusCase } from "./support/corpus.ts";
import { engineWithLlm } from "./support/engine.ts";
import { readSse } from "./support/sse.ts";

type Json = Record<string, unknown>;

/** One masked place: `key` (the last key of a path) or `path` (keys joined with ".", array indices as "[]"). */
interface Mask {
  key?: string;
  path?: RegExp;
  reason: string;
  /** What replaces the value; by default a placeholder naming the mask. */
  with?: (value: unknown) => unknown;
}

const placeholder = (name: string) => (value: unknown) => (value === null || value === undefined ? value : `<${name}>`);

const MASKS: Mask[] = [
  {
    key: "id",
    reason: "ids are generated per run (uuids, provider message ids, stand-in counters, interrupt ids)",
    with: placeholder("id"),
  },
  { key: "tool_call_id", reason: "points at a generated tool call id", with: placeholder("id") },
  { key: "execution_id", reason: "generated per run", with: placeholder("id") },
  { key: "thread_id", reason: "each run uses a thread of its own", with: placeholder("id") },
  { key: "checkpoint_id", reason: "generated per checkpoint", with: placeholder("id") },
  { key: "duration_ms", reason: "timings", with: placeholder("ms") },
  {
    path: /^(result\.)?metadata\.runtime$/,
    reason: "names the language the program was written in",
    with: placeholder("runtime"),
  },
  {
    key: "response_metadata",
    reason:
      "LangChain Python and LangChain.js each copy a different selection of the provider's response into it (token_usage vs tokenUsage, service_tier...); its presence still counts",
    with: placeholder("provider response metadata"),
  },
  {
    key: "traceback",
    reason: "each language's own traceback format (checked by the corpus: it names <workflow> lines)",
    with: (v) => (typeof v === "string" && v.includes("<workflow>") ? "<traceback naming <workflow>>" : v),
  },
  {
    path: /^error$/,
    reason: "the message names each program's own exception class (ValueError in Python, RangeError in TypeScript)",
    with: (v) => (typeof v === "string" ? v.replace(/^\w+: /, "<exception class>: ") : v),
  },
  {
    path: /\.__type$/,
    reason: "a value JSON cannot hold is named by its own language's type (datetime / Date, bytes / Uint8Array)",
    with: placeholder("type"),
  },
  {
    path: /\.repr$/,
    reason: "each language's text of such a value (2026-01-02T03:04:05+00:00 / 2026-01-02T03:04:05.000Z)",
    with: placeholder("repr"),
  },
];

/**
 * Case-specific differences: programs that show a language's own feature keep the state keys
 * only they set; the keys both set must still agree.
 */
const COMMON_STATE_KEYS_ONLY: Record<string, string> = {
  "values JSON cannot hold":
    "each program puts its own language's awkward values in state (Decimal and object() in Python, Map and BigInt in TypeScript)",
  "interrupt and resume":
    "the TypeScript program declares `approved` with a default (false), so it is in the state from the start; a Python TypedDict has no defaults, so the key appears once `review` sets it",
};

function maskFor(path: string[]): Mask | undefined {
  const key = path.at(-1);
  const joined = path.join(".").replace(/\.\[\]/g, "[]");
  return MASKS.find((m) => (m.key !== undefined && m.key === key) || (m.path !== undefined && m.path.test(joined)));
}

function normalize(value: unknown, path: string[] = []): unknown {
  const mask = path.length > 0 ? maskFor(path) : undefined;
  if (mask) return (mask.with ?? placeholder(mask.reason))(value);
  if (Array.isArray(value)) return value.map((item) => normalize(item, [...path, "[]"]));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, [...path, k])]));
  }
  return value;
}

function onlyKeys(state: unknown, keys: Set<string>): Json {
  return Object.fromEntries(Object.entries((state ?? {}) as Json).filter(([k]) => keys.has(k)));
}

/** Keeps the state keys both answers have, in `result.state` and in the debug trace. */
function keepCommonStateKeys(a: Json, b: Json): void {
  const stateOf = (answer: Json) => ((answer["result"] as Json | undefined)?.["state"] ?? {}) as Json;
  const common = new Set(Object.keys(stateOf(a)).filter((k) => k in stateOf(b)));
  for (const answer of [a, b]) {
    const result = answer["result"] as Json | undefined;
    if (result) result["state"] = onlyKeys(result["state"], common);
  }
}

const context = engineWithLlm();

interface Run {
  answers: Json[];
  /** Streamed events of the first step: their types in order (token runs collapsed) and the tokens' text. */
  events: { types: string[]; tokens: string } | null;
}

async function runCase(item: CorpusCase, program: string): Promise<Run> {
  const code = programSource(program);
  const language = languageOf(program);
  const threadId = `parity-${crypto.randomUUID()}`;
  const request = (step: CaseStep) => ({
    code,
    language,
    inputs: step.inputs ?? null,
    resume: step.resume ?? null,
    config: { ...(step.config ?? {}), thread_id: threadId },
  });
  const answers: Json[] = [];
  let events: Run["events"] = null;
  if (item.stream) {
    const read = await readSse(`${context.engine.url}/execute-langgraph/stream`, { body: request(item) });
    const types = read.events.map((e) => e.event).filter((type, i, all) => type !== "token" || all[i - 1] !== "token");
    const tokens = read.events
      .filter((e) => e.event === "token")
      .map((e) => String(e.data["content"]))
      .join("");
    events = { types, tokens };
    const { type: _type, ...terminal } = read.events.at(-1)!.data;
    answers.push(terminal);
  } else {
    answers.push((await context.engine.post("/execute-langgraph", request(item))).body);
  }
  if (item.then) answers.push((await context.engine.post("/execute-langgraph", request(item.then))).body);
  return { answers, events };
}

const pairs = corpus
  .map((item) => ({
    item,
    python: item.programs.find((p) => languageOf(p) === "python"),
    js: item.programs.find((p) => languageOf(p) !== "python"),
  }))
  .filter(
    (pair): pair is { item: CorpusCase; python: string; js: string } =>
      pair.python !== undefined && pair.js !== undefined,
  );

test("the corpus has cases in both languages to compare", () => {
  assert.ok(pairs.length >= 10, `only ${pairs.length} cases have both a Python and a JavaScript/TypeScript program`);
});

for (const { item, python, js } of pairs) {
  test(`${item.name}: ${python} and ${js} answer alike`, async () => {
    const py = await runCase(item, python);
    const ts = await runCase(item, js);
    assert.equal(ts.answers.length, py.answers.length);
    for (const [i, pyAnswer] of py.answers.entries()) {
      const tsAnswer = ts.answers[i]!;
      if (item.name in COMMON_STATE_KEYS_ONLY) keepCommonStateKeys(pyAnswer, tsAnswer);
      const step = i === 0 ? "first request" : "follow-up";
      assert.deepEqual(
        normalize(tsAnswer),
        normalize(pyAnswer),
        `${item.name} (${step}): the JavaScript/TypeScript answer differs from the Python one`,
      );
    }
    assert.deepEqual(ts.events, py.events, `${item.name}: the streamed events differ`);
  });
}
