/**
 * A program's prints reach `metadata.logs` whole up to GRAPHBOX_MAX_LOG_BYTES, and the rest is
 * counted exactly, however close to the program's end they were printed: the harness hands the
 * engine its result only once its prints are out, and the engine reads what is left of them
 * before it answers. Both runtimes, through real HTTP.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { pythonGraph, typescriptGraph } from "./support/programs.ts";

type Json = Record<string, unknown>;
type Language = "python" | "typescript";

const LINES = 200_000;
/** `line 000000\n`: 12 bytes, so the flood is 2.4 MB. */
const LINE_BYTES = 12;

/** The default, which the engine below runs with. */
const maxLogBytes = loadConfig({}).maxLogBytes;

let engine: RunningEngine;
before(async () => (engine = await startEngine()));
after(async () => engine.close());

async function run(language: Language, code: string): Promise<Json> {
  const { status, body } = await engine.post("/execute-langgraph", { code, language, inputs: { value: 1 } });
  assert.equal(status, 200, JSON.stringify(body).slice(0, 2000));
  return body;
}

function logsOf(body: Json): string {
  const metadata = (
    body["status"] === "error" ? body["metadata"] : (body["result"] as Json | undefined)?.["metadata"]
  ) as Json | undefined;
  assert.ok(metadata, `no metadata: ${JSON.stringify(body).slice(0, 2000)}`);
  return String(metadata["logs"]);
}

const numbered = (count: number): string =>
  Array.from({ length: count }, (_, i) => `line ${String(i).padStart(6, "0")}\n`).join("");

/** What the engine must answer for `printed`: its first GRAPHBOX_MAX_LOG_BYTES, then the exact count of the rest. */
function expectedLogs(printed: string): string {
  const bytes = Buffer.from(printed, "utf8");
  if (bytes.length <= maxLogBytes) return printed;
  return `${bytes.subarray(0, maxLogBytes).toString("utf8")}\n[graphbox: ${bytes.length - maxLogBytes} more bytes of output dropped]`;
}

/** Equal, said briefly: a diff of two 64 KiB strings would bury the point. */
function assertLogs(logs: string, printed: string, what = ""): void {
  const expected = expectedLogs(printed);
  const tail = (text: string): string => JSON.stringify(text.slice(-90));
  assert.ok(
    logs === expected,
    `${what}logs of ${logs.length} characters ending ${tail(logs)}; expected ${expected.length} ending ${tail(expected)}`,
  );
}

/**
 * Runs `code` a few times over, several at once, and expects every answer to log `printed` whole.
 * The prints and the result reach the engine by different pipes: one run may win the race by luck,
 * and a busy engine is where it is lost.
 */
async function expectWhole(language: Language, code: string, printed: string): Promise<void> {
  for (let round = 0; round < 4; round++) {
    const bodies = await Promise.all(Array.from({ length: 6 }, () => run(language, code)));
    for (const [i, body] of bodies.entries()) {
      assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
      assertLogs(logsOf(body), printed, `round ${round + 1}, run ${i + 1}: `);
    }
  }
}

/** Prints `count` numbered lines to stdout (or stderr), then returns, or throws when `fail`. */
function printing(
  language: Language,
  count: number,
  options: { stream?: "stdout" | "stderr"; fail?: boolean } = {},
): string {
  const stderr = options.stream === "stderr";
  if (language === "python") {
    const print = stderr ? `print(f"line {i:06d}", file=sys.stderr)` : `print(f"line {i:06d}")`;
    const end = options.fail ? `raise RuntimeError("after the prints")` : `return {"out": "printed"}`;
    return pythonGraph(`for i in range(${count}):\n    ${print}\n${end}`, "import sys");
  }
  const print = `console.${stderr ? "error" : "log"}("line " + String(i).padStart(6, "0"));`;
  const end = options.fail ? `throw new Error("after the prints");` : `return { out: "printed" };`;
  return typescriptGraph(`for (let i = 0; i < ${count}; i++) ${print}\n${end}`);
}

for (const language of ["python", "typescript"] as const) {
  test(`${language}: 2.4 MB printed right before returning keeps exactly GRAPHBOX_MAX_LOG_BYTES, and the note counts the rest`, async () => {
    const body = await run(language, printing(language, LINES));
    assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
    assert.equal(LINES * LINE_BYTES, 2_400_000);
    assertLogs(logsOf(body), numbered(LINES));
  });

  test(`${language}: 2.4 MB printed to stderr right before the node throws is kept and counted the same`, async () => {
    const body = await run(language, printing(language, LINES, { stream: "stderr", fail: true }));
    assert.equal(body["error_type"], "program_error", JSON.stringify(body).slice(0, 2000));
    assertLogs(logsOf(body), numbered(LINES));
  });

  test(`${language}: 10 lines printed right before returning all arrive, run after run`, async () => {
    await expectWhole(language, printing(language, 10), numbered(10));
  });
}

test("python: a program that puts a buffered stream in place of sys.stdout still has its last prints kept", async () => {
  const code = pythonGraph(
    `sys.stdout = open(1, "w", closefd=False)\nfor i in range(10):\n    print(f"line {i:06d}")\nreturn {"out": "printed"}`,
    "import sys",
  );
  await expectWhole("python", code, numbered(10));
});
