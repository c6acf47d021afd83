/** SIGTERM: running executions finish within the grace period, the rest are cancelled, nothing survives. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { pythonGraph } from "./support/programs.ts";
import { randomPort, startEngineProcess, waitFor } from "./support/process.ts";
import { processesWith, survivors } from "./support/processes.ts";
import { readSse } from "./support/sse.ts";

/** A node that leaves a marked background process behind, then sleeps. */
function sleeper(seconds: number, marker: string): string {
  return pythonGraph(
    `import subprocess, time\nsubprocess.Popen(["sleep", "${marker}"])\ntime.sleep(${seconds})\nreturn {"out": "finished"}`,
  );
}

/** The sandbox's marked process is running: the runtime has started and the node is in its sleep. */
const nodeRunning = (marker: string): Promise<true> =>
  waitFor(async () => (processesWith(`sleep ${marker}`).length > 0 ? true : null), 30_000);

/** The engine has taken the signal: it refuses new work (any route but /health, /ready, /metrics) with 503. */
const draining = (url: string): Promise<true> =>
  waitFor(async () =>
    (await fetch(`${url}/executions/${crypto.randomUUID()}`).catch(() => null))?.status === 503 ? true : null,
  );

/** Processes of the marker still there a while after the engine exited (the kernel kills sandboxes with their parent). */
const leftOver = async (marker: string): Promise<string[]> =>
  (await survivors(`sleep ${marker}`, 5_000)).map((p) => `${p.pid}: ${p.cmdline}`);

async function withEngine(
  env: Record<string, string>,
  body: (url: string, engine: ReturnType<typeof startEngineProcess>) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-shutdown-"));
  const engine = startEngineProcess(dataDir, randomPort(), env);
  try {
    await engine.ready;
    await body(engine.url, engine);
  } finally {
    engine.child.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/execute-langgraph`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

test("SIGTERM lets a running execution finish within the grace period and leaves no process behind", async () => {
  const marker = `1000.${Date.now()}1`;
  await withEngine({ GRAPHBOX_SHUTDOWN_GRACE_MS: "20000" }, async (url, engine) => {
    const running = post(url, { code: sleeper(4, marker), inputs: {} });
    await nodeRunning(marker);
    engine.child.kill("SIGTERM");
    await draining(url);
    const refused = await post(url, { code: sleeper(0, marker), inputs: {} });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as Record<string, unknown>)["code"], "GBX_ERR_SHUTTING_DOWN");
    const answer = (await (await running).json()) as Record<string, unknown>;
    assert.equal(answer["status"], "success", JSON.stringify(answer));
    assert.equal(await engine.exited, 0);
  });
  assert.deepEqual(await leftOver(marker), [], "a sandbox process outlived the engine");
});

test("past the grace period running executions are cancelled and their streams end with an error event", async () => {
  const marker = `1000.${Date.now()}2`;
  await withEngine({ GRAPHBOX_SHUTDOWN_GRACE_MS: "500" }, async (url, engine) => {
    let sent = false;
    const stream = readSse(`${url}/execute-langgraph/stream`, {
      body: { code: sleeper(60, marker), inputs: {} },
      onEvent: (event) => {
        if (event.event === "node_start" && !sent) {
          sent = true;
          engine.child.kill("SIGTERM");
        }
      },
    });
    const read = await stream;
    const last = read.events.at(-1)!;
    assert.equal(last.event, "error");
    assert.equal(last.data["error_type"], "cancelled");
    assert.match(String(last.data["error"]), /shutting down/);
    assert.equal(await engine.exited, 0);
  });
  assert.deepEqual(await leftOver(marker), []);
});

test("a second signal stops at once: exit 1 without waiting for the grace period, running requests get no answer, sandboxes die with the engine", async () => {
  const marker = `1000.${Date.now()}3`;
  await withEngine({ GRAPHBOX_SHUTDOWN_GRACE_MS: "60000" }, async (url, engine) => {
    const running = post(url, { code: sleeper(60, marker), inputs: {} }).then(
      (answer) => `answered ${answer.status}`,
      () => "connection lost",
    );
    await nodeRunning(marker);
    engine.child.kill("SIGTERM");
    await draining(url);
    const secondAt = performance.now();
    engine.child.kill("SIGINT");
    assert.equal(await engine.exited, 1);
    assert.ok(
      performance.now() - secondAt < 5_000,
      `exited ${Math.round(performance.now() - secondAt)} ms after the second signal`,
    );
    assert.equal(await running, "connection lost");
  });
  assert.deepEqual(await leftOver(marker), [], "a sandbox process outlived the engine");
});
