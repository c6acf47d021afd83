/**
 * Runs one Python job on a sandbox (forked or fresh) the way the engine's Execution does: wait for
 * `ready`, send the job, answer checkpoint requests from a real store, collect what comes back.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { answerCheckpointRequest } from "../../src/engine/checkpoints.ts";
import {
  defaultRunConfig,
  type HarnessMessage,
  type JobMessage,
  type ResultMessage,
  type FailureMessage,
} from "../../src/contract/protocol/messages.ts";
import type { ExitInfo, Sandbox, SandboxHandlers, TrippedLimit } from "../../src/sandbox/sandbox.ts";
import { SqliteStore } from "../../src/store/index.ts";

export type StartSandbox = (handlers: SandboxHandlers) => Promise<Sandbox>;

export interface JobRun {
  /** The result or error message, or null when the process ended without one. */
  answer: ResultMessage | FailureMessage | null;
  messages: HarnessMessage[];
  exit: ExitInfo;
  /** After an error answer: the sandbox limit behind it, as the engine asks (trippedLimit). */
  limit: TrippedLimit | null;
  logs: string;
  /** ms from start to `ready`, and from start to the answer. */
  readyMs: number;
  totalMs: number;
}

export interface JobOptions {
  inputs?: unknown;
  threadId?: string;
  /** Kill the tree this many ms after `ready` if no answer came. Default 30 000. */
  timeoutMs?: number;
  /** Called once the sandbox exists (to read logs or kill it while it runs). */
  onStarted?: (sandbox: Sandbox) => void;
  /** Called with the answer, before the tree is killed (to measure it). */
  onAnswer?: () => Promise<void>;
}

export function jobMessage(code: string, inputs: unknown, threadId: string): JobMessage {
  return {
    v: 1,
    type: "job",
    execution_id: `job-${threadId}`,
    thread_id: threadId,
    language: "python",
    code,
    inputs,
    resume: null,
    stream: false,
    debug: false,
    env: {},
    config: defaultRunConfig(),
  };
}

/** A real SQLite store in a temporary directory, for the checkpoints jobs write. */
export function temporaryStore(): { store: SqliteStore; close(): void } {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-fs-store-"));
  const store = new SqliteStore({ dataDir: dir });
  return {
    store,
    close() {
      // The directory goes once the store has let go of its files.
      store.close().then(
        () => rmSync(dir, { recursive: true, force: true }),
        () => rmSync(dir, { recursive: true, force: true }),
      );
    },
  };
}

let threadCounter = 0;

export async function runJob(
  start: StartSandbox,
  store: SqliteStore,
  code: string,
  options: JobOptions = {},
): Promise<JobRun> {
  const started = performance.now();
  const threadId = options.threadId ?? `t-${process.pid}-${++threadCounter}-${Math.random().toString(36).slice(2)}`;
  const thread = { owner: "forkserver-test", threadId };
  const messages: HarnessMessage[] = [];
  let readyMs = 0;
  let sandbox: Sandbox | null = null;
  let timer: NodeJS.Timeout | undefined;
  let settle!: (answer: ResultMessage | FailureMessage | null) => void;
  const answered = new Promise<ResultMessage | FailureMessage | null>((resolve) => (settle = resolve));
  let queue = Promise.resolve();
  sandbox = await start({
    onMessage(message) {
      messages.push(message);
      if (message.type === "ready") {
        readyMs = performance.now() - started;
        timer = setTimeout(() => sandbox?.kill(), options.timeoutMs ?? 30_000);
        sandbox?.send(jobMessage(code, options.inputs ?? {}, threadId));
      } else if (message.type === "checkpoint") {
        queue = queue.then(async () => {
          try {
            const value = await answerCheckpointRequest(store.checkpoints, thread, message);
            sandbox?.send({ v: 1, type: "response", request_id: message.request_id, ok: true, value });
          } catch (err: unknown) {
            sandbox?.send({ v: 1, type: "response", request_id: message.request_id, ok: false, error: String(err) });
          }
        });
      } else if (message.type === "result" || message.type === "error") {
        settle(message);
      }
    },
    onFault() {
      settle(null);
    },
  });
  options.onStarted?.(sandbox);
  sandbox.exited.then(
    () => settle(null),
    () => settle(null),
  );
  const answer = await answered;
  const totalMs = performance.now() - started;
  clearTimeout(timer);
  await options.onAnswer?.();
  const limit = answer?.type === "error" ? await sandbox.trippedLimit() : null;
  sandbox.kill();
  const exit = await sandbox.destroy();
  return { answer, messages, exit, limit, logs: sandbox.logs(), readyMs, totalMs };
}

/** The graph state of a successful result, or a thrown error saying what came back instead. */
export function stateOf(run: JobRun): Record<string, unknown> {
  if (run.answer?.type !== "result")
    throw new Error(`no result: ${JSON.stringify(run.answer)} exit=${JSON.stringify(run.exit)} logs=${run.logs}`);
  return run.answer.state;
}
