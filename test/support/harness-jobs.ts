/**
 * Jobs of any op sent to a real harness in a real sandbox of either runtime, without the engine's
 * Execution or HTTP: a sandbox supply (bubblewrap; Python forked from the zygote), a listening
 * gateway in front of the LLM stand-in, and a real SQLite store answering the checkpoint requests
 * on the job's thread, as the engine answers them. Every frame passes the engine's own parser.
 */
import { loadConfig } from "../../src/config/index.ts";
import {
  defaultRunConfig,
  type FailureMessage,
  type HarnessMessage,
  type JobMessage,
  type ResultMessage,
} from "../../src/contract/protocol/messages.ts";
import { answerCheckpointRequest } from "../../src/engine/checkpoints.ts";
import { Gateway } from "../../src/gateway/gateway.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { createSandboxSupply, type SandboxSupply } from "../../src/supply/index.ts";
import { temporaryStore } from "./forkserver-jobs.ts";
import { startLlmStandIn, type LlmStandIn } from "./llm-standin.ts";

export type Runtime = "python" | "js";
type AnswerMessage = Extract<HarnessMessage, { type: "answer" }>;
type ChunkMessage = Extract<HarnessMessage, { type: "chunk" }>;

export interface JobOutcome {
  /** What ended the job: `result`, `answer` or `error`; null when the process ended without one. */
  final: ResultMessage | AnswerMessage | FailureMessage | null;
  messages: HarnessMessage[];
  chunks: ChunkMessage[];
  logs: string;
}

export interface HarnessRig {
  llm: LlmStandIn;
  /** Sends `job` (over a run job's defaults) to a fresh sandbox of `runtime` and collects what comes back. */
  run(runtime: Runtime, job: Partial<JobMessage> & { code: string; thread_id: string }): Promise<JobOutcome>;
  close(): Promise<void>;
}

const TIMEOUT_MS = 60_000;

export async function startHarnessRig(): Promise<HarnessRig> {
  const llm = await startLlmStandIn();
  const config = loadConfig(
    {
      OPENAI_BASE_URL: llm.openaiBaseUrl,
      OPENAI_API_KEY: "sk-test-harness-ops",
      ANTHROPIC_BASE_URL: llm.anthropicBaseUrl,
      ANTHROPIC_API_KEY: "sk-ant-test-harness-ops",
    },
    // No pools filling in the background: each job starts its sandbox when it is sent.
    { warmPoolMax: 0 },
  );
  const gateway = new Gateway(config, { modelAllowlist: [], upstreamTimeoutMs: 10_000 });
  await gateway.listen();
  const supply: SandboxSupply = createSandboxSupply({ config, gateway });
  await supply.start();
  const { store, close: closeStore } = temporaryStore();
  let jobs = 0;

  async function run(
    runtime: Runtime,
    job: Partial<JobMessage> & { code: string; thread_id: string },
  ): Promise<JobOutcome> {
    const account = gateway.open(`harness-ops-${++jobs}`, { budget: null });
    const message: JobMessage = {
      v: 1,
      type: "job",
      execution_id: `harness-ops-${jobs}`,
      language: runtime === "python" ? "python" : "typescript",
      inputs: {},
      resume: null,
      stream: false,
      debug: false,
      config: defaultRunConfig(),
      ...job,
      env: { OPENAI_API_KEY: account.credential, ANTHROPIC_API_KEY: account.credential },
    };
    const thread = { owner: "harness-ops", threadId: job.thread_id };
    const messages: HarnessMessage[] = [];
    let sandbox: Sandbox | null = null;
    let settle!: (final: JobOutcome["final"]) => void;
    const ended = new Promise<JobOutcome["final"]>((resolve) => (settle = resolve));
    let answers = Promise.resolve();
    sandbox = await supply.acquire(runtime, {
      handlers: {
        onMessage(m) {
          messages.push(m);
          if (m.type === "ready") sandbox?.send(message);
          else if (m.type === "checkpoint") {
            // In order, one at a time, as the engine answers them.
            answers = answers.then(async () => {
              try {
                const value = await answerCheckpointRequest(store.checkpoints, thread, m);
                sandbox?.send({ v: 1, type: "response", request_id: m.request_id, ok: true, value });
              } catch (err: unknown) {
                sandbox?.send({ v: 1, type: "response", request_id: m.request_id, ok: false, error: String(err) });
              }
            });
          } else if (m.type === "result" || m.type === "answer" || m.type === "error") settle(m);
        },
        onFault: () => settle(null),
      },
    });
    const timer = setTimeout(() => sandbox?.kill(), TIMEOUT_MS);
    sandbox.exited.then(
      () => settle(null),
      () => settle(null),
    );
    const final = await ended;
    clearTimeout(timer);
    sandbox.kill();
    await sandbox.outputRead();
    const logs = sandbox.logs();
    await sandbox.destroy();
    gateway.release(account);
    const chunks = messages.filter((m): m is ChunkMessage => m.type === "chunk");
    return { final, messages, chunks, logs };
  }

  return {
    llm,
    run,
    async close() {
      await supply.destroy();
      await gateway.close();
      await llm.close();
      closeStore();
    },
  };
}

/** The `answer` of an op, or a thrown error saying what came back instead. */
export function answerOf(outcome: JobOutcome): unknown {
  if (outcome.final?.type !== "answer")
    throw new Error(`no answer: ${JSON.stringify(outcome.final)} logs=${outcome.logs}`);
  return outcome.final.data;
}

/** The `result` of a run, or a thrown error saying what came back instead. */
export function resultOf(outcome: JobOutcome): ResultMessage {
  if (outcome.final?.type !== "result")
    throw new Error(`no result: ${JSON.stringify(outcome.final)} logs=${outcome.logs}`);
  return outcome.final;
}
