/**
 * The OpenAPI fuzz run: schemathesis (pinned in test/tools/requirements.lock, installed into
 * .venv-tools by scripts/setup-test-tools.sh) generates requests from the engine's own
 * /openapi.json, valid and invalid, for every operation under both prefixes, the streams
 * included, against a real engine on a real port. It checks that no answer is a 5xx and that
 * every answer has a documented status, content type and shape (each SSE event too); then the
 * engine must still be healthy: /health, a real execution, a real stream, nothing left running,
 * no error in its log.
 *
 * Generated, not listed: the seed fixes what is generated (GRAPHBOX_FUZZ_SEED picks another).
 * Real ids and real programs (the shared corpus) are dictionaries the generator draws from half
 * of the time, so the fuzz also reaches records that exist and programs that run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";

import { loadConfig, PROJECT_ROOT } from "../src/config/index.ts";
import { buildApp, type GraphboxApp } from "../src/app.ts";
import { createLogger } from "../src/observability/logger.ts";
import { corpus, programSource } from "./support/corpus.ts";
import { installTestTools } from "./support/test-tools.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { PYTHON_OK } from "./support/programs.ts";
import { readSse } from "./support/sse.ts";

const SEED = Number(process.env["GRAPHBOX_FUZZ_SEED"] ?? "1201");
const SETTINGS = join(PROJECT_ROOT, "test/tools/schemathesis.toml");
const KEY = `fuzz-key-${crypto.randomUUID()}`;
const AUTH = { authorization: `Bearer ${KEY}` };
const HELLO = { messages: [{ role: "user", content: "hello" }] };
/** The whole fuzz run's bound; it takes 1–3 minutes on 2 cores. */
const RUN_DEADLINE_MS = 12 * 60_000;

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

let dir: string;
let llm: LlmStandIn;
let app: GraphboxApp;
let url: string;
const logLines: string[] = [];

async function post(path: string, body: unknown): Promise<Answer> {
  const response = await fetch(url + path, {
    method: "POST",
    headers: { "content-type": "application/json", ...AUTH },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The execution id of an answer: in the result's metadata, or in the error envelope. */
function executionIdOf(answer: Answer): string {
  const result = answer.body["result"] as { metadata?: { execution_id?: string } } | undefined;
  const id = result?.metadata?.execution_id ?? answer.body["execution_id"];
  assert.equal(typeof id, "string", JSON.stringify(answer.body));
  return id as string;
}

/** graphbox_executions_total by `status/error_type`, from /metrics. */
async function executionsByOutcome(): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`, { headers: AUTH })).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^graphbox_executions_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = new Map([...match[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    const key = `${labels.get("status")}/${labels.get("error_type")}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(match[2]));
  }
  return counts;
}

/** A TOML basic string: JSON's escapes are a subset of TOML's. */
const toml = (value: string): string => JSON.stringify(value);

/** Installs the test tools; resolves to the fuzzer's path. */
const installFuzzer = async (): Promise<string> => join(await installTestTools(), "schemathesis");

interface FuzzRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** Runs the fuzzer to its end, or kills it at the deadline. */
function runFuzzer(fuzzer: string, args: string[], cwd: string): Promise<FuzzRun> {
  return new Promise((resolve, reject) => {
    // `cwd` keeps its replay files (.schemathesis/) out of the work tree. A fixed hash seed:
    // Python's set order must not vary the run either.
    const child = spawn(fuzzer, args, {
      cwd,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PYTHONHASHSEED: "0", NO_COLOR: "1", COLUMNS: "120" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const deadline = setTimeout(() => child.kill("SIGKILL"), RUN_DEADLINE_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, output });
    });
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "graphbox-fuzz-"));
  llm = await startLlmStandIn();
  // Small bounds so that nothing the fuzzer sends can hold the run: executions end within 5 s
  // whatever config.timeout_ms says, and the queue stays short.
  const config = loadConfig(
    {
      GRAPHBOX_PORT: "0",
      GRAPHBOX_DATA_DIR: join(dir, "store"),
      GRAPHBOX_LOG_LEVEL: "warn",
      OPENAI_BASE_URL: llm.openaiBaseUrl,
      OPENAI_API_KEY: "sk-test-engine-openai-key",
      ANTHROPIC_BASE_URL: llm.anthropicBaseUrl,
      ANTHROPIC_API_KEY: "sk-ant-test-engine-anthropic-key",
    },
    {
      apiKeys: { fuzz: KEY },
      defaultTimeoutMs: 3_000,
      maxTimeoutMs: 5_000,
      queueSize: 8,
      queueTimeoutMs: 20_000,
      sseKeepAliveMs: 200,
    },
  );
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(chunk.toString()), done()) });
  app = await buildApp(config, { logger: createLogger(config, sink) });
  await app.server.listen({ host: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`;
});

after(async () => {
  await app?.server.close();
  await llm?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Records for the fuzzer to find: a finished thread in each runtime, an interrupted one, a streamed execution. */
async function seedRecords(): Promise<{ executions: string[]; threads: string[] }> {
  const seeded = [
    await post("/execute-langgraph", {
      code: programSource("python/01_echo.py"),
      inputs: HELLO,
      config: { thread_id: "fuzz-python" },
    }),
    await post("/execute-langgraph", {
      code: programSource("python/05_interrupt.py"),
      inputs: HELLO,
      config: { thread_id: "fuzz-interrupted" },
    }),
    await post("/execute-langgraph", {
      code: programSource("typescript/01_echo.ts"),
      inputs: HELLO,
      config: { thread_id: "fuzz-typescript" },
    }),
  ];
  assert.deepEqual(
    seeded.map((a) => a.body["status"]),
    ["success", "interrupted", "success"],
    JSON.stringify(seeded.map((a) => a.body)),
  );
  const streamed = await readSse(`${url}/execute-langgraph/stream`, {
    body: { code: programSource("python/04_loop.py"), inputs: { n: 0 }, config: { thread_id: "fuzz-streamed" } },
    headers: AUTH,
  });
  assert.equal(streamed.events.at(-1)?.event, "complete", JSON.stringify(streamed.events.at(-1)));
  return {
    executions: [...seeded.map(executionIdOf), String(streamed.events[0]?.data["execution_id"])],
    threads: ["fuzz-python", "fuzz-interrupted", "fuzz-typescript", "fuzz-streamed"],
  };
}

/**
 * The settings file plus dictionaries the generator draws from half of the time: ids of both
 * kinds for every `{id}` (a thread id where an execution's is expected is a fine 404 to try too),
 * seeded threads for `config.thread_id`, the corpus's programs for `code`.
 */
function writeFuzzConfig(records: { executions: string[]; threads: string[] }): string {
  const programs = [...new Set(corpus.flatMap((c) => c.programs))].map(programSource);
  const file = join(dir, "schemathesis.toml");
  writeFileSync(
    file,
    `${readFileSync(SETTINGS, "utf8")}
[dictionaries.ids]
values = [${[...records.executions, ...records.threads].map(toml).join(", ")}]
[dictionaries.threads]
values = [${records.threads.map(toml).join(", ")}]
[dictionaries.programs]
values = [${programs.map(toml).join(", ")}]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }
"body.code" = { dictionary = "programs", probability = 0.5 }
"body.config.thread_id" = { dictionary = "threads", probability = 0.5 }
`,
  );
  return file;
}

/** Alive, runs a program and a stream, nothing left running, nothing logged as an error. */
async function expectHealthy(): Promise<void> {
  assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: "ok" });
  const answer = await post("/execute-langgraph", { code: PYTHON_OK, inputs: {} });
  assert.equal(answer.body["status"], "success", JSON.stringify(answer.body));
  const stream = await readSse(`${url}/api/execute-langgraph/stream`, {
    body: { code: programSource("typescript/01_echo.ts"), inputs: HELLO },
    headers: AUTH,
  });
  assert.deepEqual(
    [stream.events[0]?.event, stream.events.at(-1)?.event],
    ["metadata", "complete"],
    JSON.stringify(stream.events),
  );
  for (const deadline = Date.now() + 30_000; app.engine.inFlight > 0 || app.admission.queued > 0;) {
    assert.ok(
      Date.now() < deadline,
      `executions still running 30 s after the run: ${app.engine.inFlight} running, ${app.admission.queued} queued`,
    );
    await new Promise((r) => setTimeout(r, 100));
  }
  const errors = logLines.filter((line) => (JSON.parse(line) as { level: number }).level >= 50);
  assert.deepEqual(errors, [], "the engine logged errors during the fuzz run");
}

test(
  "the OpenAPI fuzz run finds no 5xx and no answer off the schema; the engine stays healthy",
  { timeout: RUN_DEADLINE_MS + 5 * 60_000 },
  async (t) => {
    assert.ok(
      Number.isSafeInteger(SEED),
      `GRAPHBOX_FUZZ_SEED must be a whole number, not ${process.env["GRAPHBOX_FUZZ_SEED"]}`,
    );
    const fuzzer = await installFuzzer();
    const configFile = writeFuzzConfig(await seedRecords());
    const before = await executionsByOutcome();
    const started = Date.now();
    const run = await runFuzzer(
      fuzzer,
      [
        "--config-file",
        configFile,
        "--no-color",
        "run",
        `${url}/openapi.json`,
        "--header",
        `Authorization: Bearer ${KEY}`,
        "--seed",
        String(SEED),
      ],
      dir,
    );
    const seconds = (Date.now() - started) / 1000;
    const log = join(tmpdir(), "graphbox-fuzz-last.log");
    writeFileSync(log, run.output);
    t.diagnostic(`the fuzzer's report: ${log}`);
    const failures = run.output.slice(Math.max(0, run.output.indexOf("=== FAILURES ===") - 200));
    assert.equal(run.signal, null, `the fuzz run was killed after ${seconds} s:\n${run.output.slice(-6000)}`);
    assert.equal(run.code, 0, `schemathesis (seed ${SEED}) found failures:\n${failures.slice(0, 20_000)}`);

    // It really ran: every operation, as many cases as asked, and programs that ran to an end.
    const doc = (await (await fetch(`${url}/openapi.json`, { headers: AUTH })).json()) as {
      paths: Record<string, object>;
    };
    const operations = Object.values(doc.paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    assert.match(run.output, new RegExp(`Tested: ${operations}\\b`), run.output.slice(-3000));
    const generated = Number(/(\d+) generated/.exec(run.output)?.[1] ?? 0);
    const perOperation = Number(/^max-examples = (\d+)$/m.exec(readFileSync(SETTINGS, "utf8"))?.[1]);
    assert.ok(generated >= perOperation * operations, `only ${generated} cases generated for ${operations} operations`);
    const outcomes = await executionsByOutcome();
    const ran = (key: string): number => (outcomes.get(key) ?? 0) - (before.get(key) ?? 0);
    const tally = JSON.stringify(
      Object.fromEntries([...outcomes.keys()].map((k) => [k, ran(k)]).filter(([, n]) => n !== 0)),
    );
    t.diagnostic(`seed ${SEED}: ${generated} cases in ${seconds.toFixed(0)} s; executions ${tally}`);
    assert.ok(ran("success/none") >= 5, `too few programs ran to success: ${tally}`);
    assert.equal(ran("error/internal_error"), 0, `executions failed inside the engine: ${tally}`);

    await expectHealthy();
  },
);
