/**
 * The JavaScript runtime's two ways to start, in the same run (interleaved, so both see the same
 * machine): `plain` imports LangGraph.js from disk (harness/main.mjs), `snapshot` restores it from
 * the runtime's V8 startup snapshot (harness/snapshot.mjs), in the real sandbox (SandboxLauncher:
 * cgroup, bwrap, seccomp), and `plain` unsandboxed too (a plain child process). Per start:
 *   ready     spawn to `ready` (what a pre-started sandbox costs before it can take a job);
 *   cpu       CPU of the harness process and its esbuild helper at `ready` (/proc/<pid>/stat);
 *   rss       resident memory of the harness process at `ready` (and of the esbuild helper apart);
 *   job       job to result of the corpus echo program (01_echo.ts) on that ready process;
 *   tree cpu  CPU of this benchmark's whole process tree per run, start to teardown (cpuacct), when
 *             the host has a cpuacct cgroup to use: engine side, sh/bwrap, harness, teardown.
 * Then fresh starts per second at saturation (start, job, result, teardown; no pool), sandboxed;
 * and the whole engine (HTTP, warm pool, store) on the echo program with the default launch (the
 * snapshot when usable): request to answer one at a time, and answers per second at saturation.
 * The machines are shared and noisy: compare within a run, don't trust absolute numbers.
 *
 *   node --import tsx bench/js-snapshot.ts [--runs 15] [--seconds 10] [--concurrency 4] [--engine-seconds 10]
 *
 * Needs the snapshot built for the engine's heap size (scripts/js-snapshot.ts, run by setup).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { answerCheckpointRequest } from "../src/engine/checkpoints.ts";
import { harnessEnvironment, PENDING_CREDENTIAL } from "../src/runtimes/environment.ts";
import { buildApp } from "../src/app.ts";
import { defaultRunConfig, type JobMessage } from "../src/contract/protocol/messages.ts";
import { jsLaunchSpec } from "../src/runtimes/js/launch.ts";
import { snapshotProblem, usableSnapshot } from "../src/runtimes/js/snapshot/stamp.ts";
import { SandboxLauncher } from "../src/sandbox/launcher.ts";
import type { SandboxProcess } from "../src/sandbox/process.ts";
import { SqliteStore } from "../src/store/index.ts";
import { programSource } from "../test/support/corpus.ts";
import { CpuMeter } from "./cpu.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "15" },
    seconds: { type: "string", default: "10" },
    concurrency: { type: "string", default: "4" },
    "engine-seconds": { type: "string", default: "10" },
  },
});
const RUNS = Number(args.runs);
const SATURATION_MS = Number(args.seconds) * 1000;
const CONCURRENCY = Number(args.concurrency);
const ENGINE_MS = Number(args["engine-seconds"]) * 1000;

const config = loadConfig({});
const HEAP_MB = config.sandbox.memoryBytes / (1024 * 1024);
const LIMITS = { maxLogBytes: config.maxLogBytes, maxFrameBytes: config.maxOutputBytes };
const CODE = programSource("typescript/01_echo.ts");
const INPUTS = { messages: [{ role: "user", content: "Hello" }] };
const TICK_MS = 1000 / 100; // USER_HZ

type Start = "plain" | "snapshot";
type Confinement = "unsandboxed" | "sandboxed";

interface Run {
  readyMs: number;
  cpuMs: number;
  rssMb: number;
  helperRssMb: number;
  jobMs: number;
  treeCpuMs: number;
}

const launchers: Record<Confinement, SandboxLauncher> = {
  sandboxed: new SandboxLauncher(config.sandbox),
  // The GRAPHBOX_UNSAFE_NO_SANDBOX=1 path: a plain child process.
  unsandboxed: new SandboxLauncher({ ...config.sandbox, unsafeNoSandbox: true }),
};

const storeDir = mkdtempSync(join(tmpdir(), "graphbox-bench-store-"));
const store = new SqliteStore({ dataDir: storeDir });

const treeCpu = new CpuMeter();

function read(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

function children(pid: number): number[] {
  const tasks = (() => {
    try {
      return readdirSync(`/proc/${pid}/task`);
    } catch {
      return [];
    }
  })();
  return tasks.flatMap((tid) => read(`/proc/${pid}/task/${tid}/children`).split(" ").filter(Boolean).map(Number));
}

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...children(out[i]!));
  return out;
}

const comm = (pid: number): string => read(`/proc/${pid}/comm`).trim();
/** utime + stime of the whole process (all its threads), ms; tick resolution, hence the averages. */
const cpuOf = (pid: number): number => {
  const stat = read(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
};
const rssMbOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(read(`/proc/${pid}/status`))?.[1] ?? NaN) / 1024;

/** The harness (the `node` in the tree) and its esbuild helper, measured at `ready`. */
function measureAtReady(leader: number): { cpuMs: number; rssMb: number; helperRssMb: number } {
  const node = descendants(leader).find((pid) => comm(pid) === "node");
  if (node === undefined) throw new Error(`no node process under ${leader}`);
  const helpers = descendants(node).slice(1);
  return {
    cpuMs: cpuOf(node) + helpers.reduce((sum, pid) => sum + cpuOf(pid), 0),
    rssMb: rssMbOf(node),
    helperRssMb: helpers.reduce((sum, pid) => sum + rssMbOf(pid), 0),
  };
}

let counter = 0;

/** Starts one harness, waits for `ready`, measures it, runs the echo job on it, tears it down. */
async function run(start: Start, confinement: Confinement, measure = true): Promise<Run> {
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-bench-js-"));
  const threadId = `bench-${process.pid}-${++counter}`;
  const thread = { owner: "bench", threadId };
  const spec = jsLaunchSpec(workDir, harnessEnvironment(workDir, "http://127.0.0.1:9", PENDING_CREDENTIAL), HEAP_MB, {
    snapshot: start === "snapshot",
  });
  const job: JobMessage = {
    v: 1,
    type: "job",
    execution_id: threadId,
    thread_id: threadId,
    language: "typescript",
    code: CODE,
    inputs: INPUTS,
    resume: null,
    stream: false,
    debug: false,
    env: {},
    config: defaultRunConfig(),
  };
  const tree0 = treeCpu.totalMs();
  const started = performance.now();
  let sandbox: SandboxProcess | null = null;
  let readyAt = 0;
  let jobSentAt = 0;
  let atReady = { cpuMs: NaN, rssMb: NaN, helperRssMb: NaN };
  let settle!: (answer: unknown) => void;
  const answered = new Promise<unknown>((resolve) => (settle = resolve));
  let queue = Promise.resolve();
  sandbox = await launchers[confinement].start(spec, LIMITS, {
    onMessage(message) {
      if (message.type === "ready") {
        readyAt = performance.now();
        if (measure && sandbox?.pid) atReady = measureAtReady(sandbox.pid);
        jobSentAt = performance.now();
        sandbox?.send(job);
      } else if (message.type === "checkpoint") {
        queue = queue.then(async () => {
          const value = await answerCheckpointRequest(store.checkpoints, thread, message);
          sandbox?.send({ v: 1, type: "response", request_id: message.request_id, ok: true, value });
        });
      } else if (message.type === "result" || message.type === "error") {
        settle(message);
      }
    },
    onFault: () => settle(null),
  });
  sandbox.exited.then(
    () => settle(null),
    () => settle(null),
  );
  const answer = (await answered) as { type?: string; state?: { count?: number } } | null;
  const doneAt = performance.now();
  await sandbox.destroy();
  rmSync(workDir, { recursive: true, force: true });
  if (answer?.type !== "result" || answer.state?.count !== 2)
    throw new Error(`${start} ${confinement}: unexpected answer ${JSON.stringify(answer)}; logs: ${sandbox.logs()}`);
  return { readyMs: readyAt - started, ...atReady, jobMs: doneAt - jobSentAt, treeCpuMs: treeCpu.totalMs() - tree0 };
}

const percentile = (values: number[], p: number): number =>
  [...values].sort((a, b) => a - b)[
    Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1))
  ] ?? NaN;
const median = (values: number[]): number => percentile(values, 50);
const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;
const fixed = (value: number, digits = 1): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");

async function saturate(start: Start, durationMs: number): Promise<{ perSecond: number; p50: number }> {
  const latency: number[] = [];
  const began = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() - began < durationMs) {
      const t = performance.now();
      await run(start, "sandboxed", false);
      latency.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { perSecond: latency.length / ((performance.now() - began) / 1000), p50: median(latency) };
}

/** The engine as `npm start` runs it (pool on), driven over HTTP with the echo program. */
async function engineRuns(
  durationMs: number,
): Promise<{ sequentialP50: number; sequentialP90: number; perSecond: number; p50: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-bench-engine-"));
  const app = await buildApp(
    loadConfig({ GRAPHBOX_PORT: "0", GRAPHBOX_DATA_DIR: dataDir, GRAPHBOX_LOG_LEVEL: "warn" }),
  );
  try {
    await app.server.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}/execute-langgraph`;
    const body = JSON.stringify({ code: CODE, language: "typescript", inputs: INPUTS });
    const request = async (): Promise<number> => {
      const started = performance.now();
      const answer = (await (
        await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body })
      ).json()) as { status?: string };
      if (answer.status !== "success")
        throw new Error(`engine: unexpected answer ${JSON.stringify(answer).slice(0, 1000)}`);
      return performance.now() - started;
    };
    for (let i = 0; i < 3; i++) await request();
    // One at a time, with time for the pool to refill between requests: what a request waits for.
    const sequential: number[] = [];
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      sequential.push(await request());
    }
    const latency: number[] = [];
    const began = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() - began < durationMs) latency.push(await request());
      }),
    );
    return {
      sequentialP50: median(sequential),
      sequentialP90: percentile(sequential, 90),
      perSecond: latency.length / ((performance.now() - began) / 1000),
      p50: median(latency),
    };
  } finally {
    await app.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const problem = snapshotProblem(HEAP_MB);
if (problem) {
  console.error(
    `no usable snapshot for a ${HEAP_MB} MiB heap (${problem}): run \`node --import tsx scripts/js-snapshot.ts\` first`,
  );
  process.exit(1);
}
const report = await launchers.sandboxed.ensureUsable();
console.log(
  `sandbox: ${report.checks.map((c) => `${c.name} ${c.ok ? "ok" : "FAIL"}`).join(", ")}; heap ${HEAP_MB} MiB; ${RUNS} runs per arm, interleaved`,
);

// No unsandboxed snapshot arm: the blob holds the runtime's paths as sandboxes see them
// (src/runtimes/js/snapshot/layout.ts), so an unsandboxed start runs main.mjs.
const ARMS: [Start, Confinement][] = [
  ["plain", "unsandboxed"],
  ["plain", "sandboxed"],
  ["snapshot", "sandboxed"],
];
const results = new Map<string, Run[]>(ARMS.map(([s, c]) => [`${s} ${c}`, []]));
try {
  for (const [s, c] of ARMS) await run(s, c); // warm-up: page cache, the doctor's probe
  for (let i = 0; i < RUNS; i++) for (const [s, c] of ARMS) results.get(`${s} ${c}`)!.push(await run(s, c));

  console.log("\nmedians (cpu and tree cpu: means), per start:");
  console.log("arm                    ready ms   cpu ms   rss MB (+esbuild)   echo job ms (p90)   tree cpu ms");
  const row = (name: string): Record<string, number> => {
    const r = results.get(name)!;
    const out = {
      ready: median(r.map((x) => x.readyMs)),
      cpu: mean(r.map((x) => x.cpuMs)),
      rss: median(r.map((x) => x.rssMb)),
      helper: median(r.map((x) => x.helperRssMb)),
      job: median(r.map((x) => x.jobMs)),
      jobP90: percentile(
        r.map((x) => x.jobMs),
        90,
      ),
      tree: mean(r.map((x) => x.treeCpuMs)),
    };
    console.log(
      `${name.padEnd(22)} ${fixed(out.ready).padStart(8)} ${fixed(out.cpu).padStart(8)} ${fixed(out.rss).padStart(8)} (+${fixed(out.helper)}) ${fixed(out.job).padStart(12)} (${fixed(out.jobP90)}) ${fixed(out.tree).padStart(12)}`,
    );
    return out;
  };
  const rows = Object.fromEntries(ARMS.map(([s, c]) => [`${s} ${c}`, row(`${s} ${c}`)]));
  console.log("\nsnapshot / plain:");
  for (const c of ["sandboxed"] as const) {
    const [p, s] = [rows[`plain ${c}`]!, rows[`snapshot ${c}`]!];
    const ratio = (key: string): string => fixed(s[key]! / p[key]!, 2);
    console.log(
      `  ${c.padEnd(12)} ready ${ratio("ready")}x, cpu ${ratio("cpu")}x, rss ${ratio("rss")}x, echo job ${ratio("job")}x, tree cpu ${ratio("tree")}x`,
    );
  }

  if (SATURATION_MS > 0) {
    console.log(
      `\nfresh sandboxed starts at saturation (${CONCURRENCY} at a time, ${SATURATION_MS / 1000} s each; start + echo job + teardown, no pool):`,
    );
    const plain = await saturate("plain", SATURATION_MS);
    const snapshot = await saturate("snapshot", SATURATION_MS);
    console.log(`  plain    ${fixed(plain.perSecond, 2)} runs/s, p50 ${fixed(plain.p50)} ms`);
    console.log(
      `  snapshot ${fixed(snapshot.perSecond, 2)} runs/s, p50 ${fixed(snapshot.p50)} ms (${fixed(snapshot.perSecond / plain.perSecond, 2)}x the runs/s)`,
    );
  }
  if (ENGINE_MS > 0) {
    const engine = await engineRuns(ENGINE_MS);
    console.log(
      `\nengine, echo over HTTP, default launch (${usableSnapshot(HEAP_MB) ? "snapshot" : "plain"}), warm pool:`,
    );
    console.log(
      `  one at a time p50 ${fixed(engine.sequentialP50)} ms (p90 ${fixed(engine.sequentialP90)}); ${CONCURRENCY} at a time ${fixed(engine.perSecond, 2)} runs/s, p50 ${fixed(engine.p50)} ms`,
    );
  }
} finally {
  treeCpu.close();
  await store.close();
  rmSync(storeDir, { recursive: true, force: true });
}
