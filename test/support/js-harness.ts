/**
 * Runs the JavaScript harness as the engine would (without a sandbox, but with the runtime's folder
 * where sandboxes see it: src/runtimes/js/snapshot/layout.ts), this module playing the
 * engine on fd 3 with the engine's own framing and parser: every frame the harness sends must pass them.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

import { encodeFrame, FrameDecoder } from "../../src/contract/protocol/framing.ts";
import {
  defaultRunConfig,
  parseHarnessMessage,
  type CheckpointRequest,
  type HarnessMessage,
  type JobMessage,
} from "../../src/contract/protocol/messages.ts";
import { jsLaunchSpec } from "../../src/runtimes/js/launch.ts";
import { inRuntimeLayout } from "../../src/runtimes/js/snapshot/layout.ts";

type Json = Record<string, unknown>;

export interface Session {
  messages: HarnessMessage[];
  exitCode: number | null;
  logs: string;
}

/** Answers checkpoint requests from memory, like the engine's store on one thread. */
function memoryStore(refuse: CheckpointRequest["op"] | null) {
  const rows: Json[] = [];
  const writes: Json[] = [];
  const wire = (row: Json) => ({ ...row, writes: writes.filter((w) => w["checkpoint_id"] === row["checkpoint_id"]) });
  return (request: CheckpointRequest): { ok: boolean; value?: unknown; error?: string } => {
    const a = request.args;
    if (request.op === refuse) return { ok: false, error: "this execution may only use its own thread" };
    switch (request.op) {
      case "put":
        rows.push({ ...a });
        return { ok: true, value: null };
      case "put_writes":
        for (const w of a["writes"] as Json[])
          writes.push({
            checkpoint_id: a["checkpoint_id"],
            task_id: a["task_id"],
            channel: w["channel"],
            type: w["type"],
            value: w["value"],
          });
        return { ok: true, value: null };
      case "get_tuple": {
        const matching = rows.filter((r) => !a["checkpoint_id"] || r["checkpoint_id"] === a["checkpoint_id"]);
        const row = matching.sort((x, y) => String(y["checkpoint_id"]).localeCompare(String(x["checkpoint_id"])))[0];
        return { ok: true, value: row ? wire(row) : null };
      }
      case "list":
        return { ok: true, value: [...rows].reverse().map(wire) };
    }
  };
}

/**
 * Starts the harness (from its startup snapshot when usable, or as `snapshot` says), sends `job`
 * after `ready` (or closes the channel when it is null), collects every message.
 */
export function harnessSession(
  job: Partial<JobMessage> | null,
  options: { refuse?: CheckpointRequest["op"]; snapshot?: boolean; heapMb?: number } = {},
): Promise<Session> {
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-js-harness-"));
  const spec = jsLaunchSpec(
    workDir,
    { PATH: "/usr/bin:/bin", HOME: workDir, TMPDIR: workDir },
    options.heapMb ?? 512,
    options.snapshot === undefined ? {} : { snapshot: options.snapshot },
  );
  if (options.snapshot !== undefined)
    assert.equal(spec.args.includes("--snapshot-blob"), options.snapshot, spec.args.join(" "));
  // With the runtime where sandboxes see it (the blob holds those paths), from the blob or from main.mjs alike.
  const run = inRuntimeLayout(spec.command, spec.args);
  const child = spawn(run.command, run.args, {
    cwd: spec.cwd,
    env: spec.env,
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const channel = child.stdio[3] as Readable & Writable;
  const decoder = new FrameDecoder(16 * 1024 * 1024);
  const answer = memoryStore(options.refuse ?? null);
  const messages: HarnessMessage[] = [];
  let logs = "";
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  channel.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const message = parseHarnessMessage(frame);
      messages.push(message);
      if (message.type === "ready") {
        if (job === null) channel.end();
        else channel.write(encodeFrame({ ...JOB, ...job }));
      } else if (message.type === "checkpoint") {
        channel.write(encodeFrame({ v: 1, type: "response", request_id: message.request_id, ...answer(message) }));
      }
    }
  });
  channel.on("error", () => undefined);
  return new Promise((resolve) => {
    child.on("exit", (code) => {
      rmSync(workDir, { recursive: true, force: true });
      resolve({ messages, exitCode: code, logs });
    });
  });
}

export const JOB: JobMessage = {
  v: 1,
  type: "job",
  execution_id: "e-1",
  thread_id: "t-1",
  language: "typescript",
  code: "",
  inputs: {},
  resume: null,
  stream: false,
  debug: false,
  env: {},
  config: defaultRunConfig(),
};
