/** The `graphbox` CLI as built (packages/client/bin), against the real engine: output, --json and exit codes. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";

import { PROJECT_ROOT } from "../src/config/index.ts";
import { CORPUS_DIR } from "./support/corpus.ts";
import { engineWithLlm } from "./support/engine.ts";

const run = promisify(execFile);
const context = engineWithLlm();
const BIN = join(PROJECT_ROOT, "packages", "client", "bin", "graphbox.js");
const state = mkdtempSync(join(tmpdir(), "graphbox-cli-state-"));
const program = (name: string) => join(CORPUS_DIR, name);
const HELLO = JSON.stringify({ messages: [{ role: "user", content: "Hello" }] });

before(async () => {
  await run("bash", [join(PROJECT_ROOT, "scripts", "build-client.sh"), "--quiet"]);
});
after(() => rmSync(state, { recursive: true, force: true }));

async function graphbox(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      // The engine's URL from the environment, as a user sets it; state of its own.
      env: { ...process.env, GRAPHBOX_URL: context.engine.url, XDG_STATE_HOME: state },
    });
    return { code: 0, stdout, stderr };
  } catch (err: unknown) {
    const failed = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof failed.code !== "number") throw err;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

test("run --stream prints the live node timeline and the result", async () => {
  const { code, stdout, stderr } = await graphbox("run", program("python/01_echo.py"), "--input", HELLO, "--stream");
  assert.equal(code, 0, stderr);
  const lines = stderr.split("\n");
  const at = (pattern: RegExp) => lines.findIndex((l) => pattern.test(l));
  assert.ok(at(/• execution \S+ · thread \S+ · python/) >= 0, stderr);
  assert.ok(at(/▶ greet \(step 1\)/) < at(/✓ greet [\d.]+ ms/), stderr);
  assert.ok(at(/✓ greet [\d.]+ ms/) < at(/▶ shout \(step 2\)/), stderr);
  assert.ok(at(/▶ shout/) < at(/✓ shout [\d.]+ ms/), stderr);
  assert.match(stderr, /✓ success in [\d.]+ ms · 2 nodes · 0 tokens/);
  const result = JSON.parse(stdout) as { messages: { content: string }[]; count: number };
  assert.equal(result.messages.at(-1)?.content, "ECHO: HELLO");
  assert.equal(result.count, 2);
});

test("run --stream prints tokens as the LLM streams them, under their node", async () => {
  const input = JSON.stringify({ messages: [{ role: "user", content: "Stream please" }] });
  const { code, stdout, stderr } = await graphbox(
    "run",
    program("typescript/10_streaming.ts"),
    "--input",
    input,
    "--stream",
  );
  assert.equal(code, 0, stderr);
  const answer = (JSON.parse(stdout) as { messages: { content: string }[] }).messages.at(-1)!.content;
  const streamed = /writer › (.*)\n/.exec(stderr)?.[1];
  assert.equal(streamed, answer, stderr);
});

test("--json: the answer as JSON, and with --stream one event per line", async () => {
  const inputFile = join(state, "input.json");
  writeFileSync(inputFile, HELLO);
  const plain = await graphbox("run", program("typescript/01_echo.ts"), "--input", `@${inputFile}`, "--json");
  assert.equal(plain.code, 0, plain.stderr);
  const answer = JSON.parse(plain.stdout) as { status: string; result: { metadata: { nodes_executed: string[] } } };
  assert.equal(answer.status, "success");
  assert.deepEqual(answer.result.metadata.nodes_executed, ["greet", "shout"]);
  const streamed = await graphbox("run", program("python/01_echo.py"), "--input", HELLO, "--stream", "--json");
  assert.equal(streamed.code, 0, streamed.stderr);
  const events = streamed.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { id: number; event: string });
  assert.equal(events[0]?.event, "metadata");
  assert.equal(events.at(-1)?.event, "complete");
  assert.deepEqual(
    events.map((e) => e.id),
    events.map((_, i) => i + 1),
  );
});

test("exit codes: 1 the program failed, 2 usage, 4 refused by the engine, 5 unreachable", async () => {
  const failed = await graphbox("run", program("python/09_error.py"), "--input", '{"value": 11}');
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /✗ program_error in node validate/);
  assert.match(failed.stderr, /value too large: 11/);
  assert.match(failed.stderr, /<workflow>/);
  const failedJson = await graphbox("run", program("python/09_error.py"), "--input", '{"value": 11}', "--json");
  assert.equal(failedJson.code, 1);
  assert.equal((JSON.parse(failedJson.stdout) as { error_type: string }).error_type, "program_error");

  assert.equal((await graphbox("run", join(state, "missing.py"))).code, 2);
  assert.equal((await graphbox("run", program("README.md"))).code, 2, "no language from .md");
  assert.equal((await graphbox("run", program("python/01_echo.py"), "--input", "{not json")).code, 2);
  assert.equal((await graphbox("frobnicate")).code, 2);

  const refused = await graphbox("history", `no-such-thread-${crypto.randomUUID()}`, "--json");
  assert.equal(refused.code, 4);
  assert.equal((JSON.parse(refused.stdout) as { code: string }).code, "GBX_ERR_THREAD_NOT_FOUND");
  assert.match(refused.stderr, /HTTP 404 GBX_ERR_THREAD_NOT_FOUND/);

  const unreachable = await graphbox("history", "t", "--url", "http://127.0.0.1:9");
  assert.equal(unreachable.code, 5);
  assert.match(unreachable.stderr, /could not reach the engine/);
});

test("a breakpoint exits 3, `graphbox resume THREAD` goes on with the file it ran, and history lists the checkpoints", async () => {
  const thread = `cli-bp-${crypto.randomUUID()}`;
  const paused = await graphbox(
    "run",
    program("python/01_echo.py"),
    "--input",
    HELLO,
    "--thread",
    thread,
    "--breakpoint",
    "shout",
  );
  assert.equal(paused.code, 3, paused.stderr);
  assert.match(paused.stderr, /⏸ interrupted/);
  assert.match(paused.stderr, /next: shout/);
  assert.match(paused.stderr, new RegExp(`graphbox resume "${thread}"`));
  const resumed = await graphbox("resume", thread, "--stream");
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /▶ shout/);
  assert.doesNotMatch(resumed.stderr, /▶ greet/);
  assert.equal(
    (JSON.parse(resumed.stdout) as { messages: { content: string }[] }).messages.at(-1)?.content,
    "ECHO: HELLO",
  );

  const history = await graphbox("history", thread, "--json");
  assert.equal(history.code, 0, history.stderr);
  const checkpoints = (JSON.parse(history.stdout) as { checkpoints: { checkpoint_id: string }[] }).checkpoints;
  assert.ok(checkpoints.length >= 3, history.stdout);
  const human = await graphbox("history", thread);
  assert.match(human.stdout, new RegExp(`thread ${thread}: ${checkpoints.length} checkpoints, newest first`));
  assert.ok(human.stdout.includes(checkpoints[0]!.checkpoint_id));
});

test("an interrupt() is answered with resume --resume", async () => {
  const thread = `cli-hitl-${crypto.randomUUID()}`;
  const input = JSON.stringify({ messages: [{ role: "user", content: "Plan the launch" }] });
  const paused = await graphbox("run", program("typescript/05_interrupt.ts"), "--input", input, "--thread", thread);
  assert.equal(paused.code, 3, paused.stderr);
  assert.match(paused.stderr, /interrupt: \{"question":"Approve the draft\?"/);
  const resumed = await graphbox("resume", thread, "--resume", '"yes"', "--json");
  assert.equal(resumed.code, 0, resumed.stderr);
  const answer = JSON.parse(resumed.stdout) as { result: { messages: { content: string }[] } };
  assert.equal(answer.result.messages.at(-1)?.content, "Published");
});
