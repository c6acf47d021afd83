/** SIGTERM: running executions finish within the grace period, the rest are cancelled, nothing survives. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { pythonGraph } from "./support/programs.ts";
import { randomPort, startEngineProcess } from "./support/process.ts";
import { readSse } from "./support/sse.ts";

/** A node that leaves a marked background process behind, then sleeps. */
function sleeper(seconds: number, marker: string): string {
  return pythonGraph(`import subprocess, time\nsubprocess.Popen(["sleep", "${marker}"])\ntime.sleep(${seconds})\nreturn {"out": "finished"}`);
}

const survivors = (marker: string): string => {
  try {
    return execFileSync("pgrep", ["-f", `sleep ${marker}`], { encoding: "utf8" }).trim();
  } catch {
    return ""; // pgrep exits 1 when nothing matches
  }
};

async function withEngine(env: Record<string, string>, body: (url: string, engine: ReturnType<typeof startEngineProcess>) => Promise<void>): Promise<void> {
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

const post = (url: string, body: unknown) => fetch(`${url}/execute-langgraph`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

test("SIGTERM lets a running execution finish within the grace period and leaves no process behind", async () => {
  const marker = `1000.${Date.now()}1`;
  await withEngine({ GRAPHBOX_SHUTDOWN_GRACE_MS: "20000" }, async (url, engine) => {
    const running = post(url, { code: sleeper(4, marker), inputs: {} });
    await new Promise((r) => setTimeout(r, 1500)); // the runtime has started and the node sleeps
    engine.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    const refused = await post(url, { code: sleeper(0, marker), inputs: {} });
    assert.equal(refused.status, 503);
    assert.equal(((await refused.json()) as Record<string, unknown>)["code"], "GBX_ERR_SHUTTING_DOWN");
    const answer = (await (await running).json()) as Record<string, unknown>;
    assert.equal(answer["status"], "success", JSON.stringify(answer));
    assert.equal(await engine.exited, 0);
  });
  assert.equal(survivors(marker), "", "a sandbox process outlived the engine");
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
  assert.equal(survivors(marker), "");
});
