/**
 * The proof a freshly built snapshot blob must give before it is stamped usable: two processes
 * started from it, as the engine starts them, each run a probe program end to end (TypeScript,
 * top-level await, held and lazy packages, a held package's import() of a computed name, a checkpointed graph) and answer without a word in the
 * logs; and what they generate at random differs between them. A snapshot keeps whatever a module
 * drew at import time (a pool of random bytes, a uuid node id): every process would then repeat it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

import { encodeFrame, FrameDecoder } from "../../../contract/protocol/framing.ts";
import {
  defaultRunConfig,
  parseHarnessMessage,
  type HarnessMessage,
  type JobMessage,
} from "../../../contract/protocol/messages.ts";
import { inRuntimeLayout } from "./layout.ts";
import { snapshotNodeFlags } from "./stamp.ts";

const TIMEOUT_MS = 60_000;

const PROBE = `import { randomUUID } from "node:crypto";
import { StateGraph, START, END, Annotation } from "@langchain/langgraph";
import { uuid6 } from "@langchain/langgraph-checkpoint";
import { v1, v4, v6, v7 } from "@langchain/core/utils/uuid";
import { ChatOpenAI } from "@langchain/openai";
import { initChatModel } from "langchain";

// initChatModel imports its provider's package by a computed name: from the snapshot, through the harness.
const client: string = [
  typeof new ChatOpenAI({ model: "gpt-4o-mini" }).invoke,
  typeof (await initChatModel("openai:gpt-4o-mini")).invoke,
].join();
const State = Annotation.Root({ drawn: Annotation<Record<string, string>>(), client: Annotation<string>() });
export const app = new StateGraph(State)
  .addNode("draw", () => ({
    client,
    drawn: { randomUUID: randomUUID(), v1: v1(), v4: v4(), v6: v6(), v7: v7(), checkpoint: uuid6(-1), math: String(Math.random()) },
  }))
  .addEdge(START, "draw")
  .addEdge("draw", END)
  .compile();
`;

const JOB: JobMessage = {
  v: 1,
  type: "job",
  execution_id: "snapshot-check",
  thread_id: "snapshot-check",
  language: "typescript",
  code: PROBE,
  inputs: {},
  resume: null,
  stream: true,
  debug: false,
  env: {},
  config: defaultRunConfig(),
};

interface ProbeRun {
  messages: HarnessMessage[];
  logs: string;
  exit: number | null;
}

/** Plays the engine for one process: the job after `ready`, checkpoint requests answered from memory. */
function probe(blob: string, heapMb: number): Promise<ProbeRun> {
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-snapshot-check-"));
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: workDir, TMPDIR: workDir, LANG: "C.UTF-8" };
  // With the runtime where the sandboxes see it: the blob holds those paths (layout.ts).
  const run = inRuntimeLayout(process.execPath, [...snapshotNodeFlags(heapMb), "--snapshot-blob", blob]);
  const child = spawn(run.command, run.args, { cwd: workDir, env, stdio: ["ignore", "pipe", "pipe", "pipe"] });
  const channel = child.stdio[3] as Readable & Writable;
  const decoder = new FrameDecoder(16 * 1024 * 1024);
  const messages: HarnessMessage[] = [];
  const rows: unknown[] = [];
  let logs = "";
  child.stdout?.on("data", (d: Buffer) => (logs += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (logs += d.toString()));
  channel.on("error", () => undefined);
  channel.on("data", (chunk: Buffer) => {
    for (const frame of decoder.push(chunk)) {
      const message = parseHarnessMessage(frame);
      messages.push(message);
      if (message.type === "ready") channel.write(encodeFrame(JOB));
      if (message.type !== "checkpoint") continue;
      if (message.op === "put") rows.push(message.args);
      const value =
        message.op === "get_tuple" ? (rows.at(-1) ?? null) : message.op === "list" ? [...rows].reverse() : null;
      channel.write(encodeFrame({ v: 1, type: "response", request_id: message.request_id, ok: true, value }));
    }
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
  return new Promise((resolve) => {
    child.on("exit", (exit) => {
      clearTimeout(timer);
      rmSync(workDir, { recursive: true, force: true });
      resolve({ messages, logs, exit });
    });
  });
}

/** The probe's draws, or why the run failed. */
function drawsOf(run: ProbeRun): Record<string, string> {
  const last = run.messages.at(-1);
  const said = `exit ${String(run.exit)}, messages ${run.messages.map((m) => m.type).join(",")}, logs ${JSON.stringify(run.logs.slice(0, 2000))}`;
  if (last?.type !== "result" || last.status !== "success")
    throw new Error(`the probe program failed under the snapshot: ${JSON.stringify(last).slice(0, 2000)}; ${said}`);
  if (run.logs !== "") throw new Error(`the snapshot's harness wrote to the logs: ${said}`);
  const state = last.state as { drawn?: Record<string, string>; client?: string };
  if (state.client !== "function,function" || !state.drawn)
    throw new Error(`the probe program's state is wrong: ${JSON.stringify(state)}`);
  return state.drawn;
}

/** Throws unless two processes from `blob` run the probe and draw different random values. */
export async function checkSnapshot(blob: string, heapMb: number): Promise<void> {
  const [first, second] = await Promise.all([probe(blob, heapMb), probe(blob, heapMb)]);
  const a = drawsOf(first);
  const b = drawsOf(second);
  // The last 12 hex digits are random in each kind (v1/v6: the node id, drawn once per process).
  const repeated = Object.keys(a).filter((key) => a[key]?.slice(-12) === b[key]?.slice(-12));
  if (repeated.length)
    throw new Error(
      `two processes from the snapshot drew the same ${repeated.join(", ")}: a module drew random values at import time`,
    );
}
