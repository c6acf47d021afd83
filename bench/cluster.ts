/**
 * The store's cost and what a second engine adds, in the same run on the same machine:
 *   SQLite, one engine (the baseline) · PostgreSQL, one engine · PostgreSQL, two engines
 *   (requests alternate between them, as a round-robin load balancer would send them).
 * For each: sequential latency of the corpus' echo graph on a thread (checkpoints written and read
 * through the store), p50/p99; then runs/s with `--clients` concurrent clients for `--seconds`.
 * Reported as ratios against the baseline; the PostgreSQL cluster is a throwaway one (fsync off,
 * as in the tests), so the figure is the engine's cost of the store, not a disk's.
 *
 *   node --import tsx bench/cluster.ts [--runs 60] [--seconds 15] [--clients 16]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { programSource } from "../test/support/corpus.ts";
import { startPostgres } from "../test/support/postgres.ts";
import { randomPort, startEngineProcess, type EngineProcess } from "../test/support/process.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "60" },
    seconds: { type: "string", default: "15" },
    clients: { type: "string", default: "16" },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const ECHO = programSource("python/01_echo.py");

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};

async function execute(url: string, threadId: string): Promise<boolean> {
  const response = await fetch(`${url}/execute-langgraph`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      code: ECHO,
      inputs: { messages: [{ role: "user", content: "hi" }] },
      config: { thread_id: threadId },
    }),
  });
  const body = (await response.json()) as { status?: string };
  return response.status === 200 && body.status === "success";
}

interface Figures {
  name: string;
  p50: number;
  p99: number;
  runsPerSecond: number;
  failures: number;
}

async function measure(name: string, urls: string[]): Promise<Figures> {
  // Warm-up: each engine's pool and zygote, and the store's first writes.
  for (const url of urls) for (let i = 0; i < 5; i++) await execute(url, crypto.randomUUID());
  const latencies: number[] = [];
  let failures = 0;
  for (let i = 0; i < RUNS; i++) {
    const url = urls[i % urls.length] as string;
    const started = performance.now();
    // Two turns on one thread: the second reads the first's checkpoint, possibly on the other engine.
    const thread = crypto.randomUUID();
    if (!(await execute(url, thread))) failures++;
    if (!(await execute(urls[(i + 1) % urls.length] as string, thread))) failures++;
    latencies.push((performance.now() - started) / 2);
  }
  let done = 0;
  const deadline = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let i = 0; performance.now() < deadline; i++) {
        if (await execute(urls[(client + i) % urls.length] as string, crypto.randomUUID())) done++;
        else failures++;
      }
    }),
  );
  return {
    name,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    runsPerSecond: done / SECONDS,
    failures,
  };
}

async function withEngines<T>(
  count: number,
  env: Record<string, string>,
  work: (urls: string[]) => Promise<T>,
): Promise<T> {
  const dirs = Array.from({ length: count }, () => mkdtempSync(join(tmpdir(), "graphbox-bench-cluster-")));
  const engines: EngineProcess[] = [];
  try {
    for (const dir of dirs)
      engines.push(startEngineProcess(env["GRAPHBOX_DATABASE_URL"] ? dir : (dirs[0] as string), randomPort(), env));
    await Promise.all(engines.map((e) => e.ready));
    return await work(engines.map((e) => e.url));
  } finally {
    for (const engine of engines) engine.child.kill("SIGTERM");
    await Promise.all(engines.map((e) => e.exited));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

const postgres = await startPostgres();
try {
  const results: Figures[] = [];
  results.push(await withEngines(1, {}, (urls) => measure("sqlite, 1 engine", urls)));
  const one = await postgres.createDatabase();
  results.push(await withEngines(1, { GRAPHBOX_DATABASE_URL: one }, (urls) => measure("postgres, 1 engine", urls)));
  const two = await postgres.createDatabase();
  results.push(await withEngines(2, { GRAPHBOX_DATABASE_URL: two }, (urls) => measure("postgres, 2 engines", urls)));

  const base = results[0] as Figures;
  console.log(
    `\n${RUNS} sequential runs (each the mean of two turns on one thread), then ${CLIENTS} clients for ${SECONDS} s`,
  );
  console.log("configuration          p50 ms   p99 ms   runs/s   p50 ratio  runs/s ratio  failures");
  for (const r of results)
    console.log(
      `${r.name.padEnd(22)} ${r.p50.toFixed(1).padStart(7)} ${r.p99.toFixed(1).padStart(8)} ${r.runsPerSecond.toFixed(1).padStart(8)} ${(r.p50 / base.p50).toFixed(2).padStart(10)} ${(r.runsPerSecond / base.runsPerSecond).toFixed(2).padStart(13)} ${String(r.failures).padStart(9)}`,
    );
  const pg = results[1] as Figures;
  console.log(
    `\nPostgreSQL adds ${(pg.p50 - base.p50).toFixed(1)} ms per run at p50 (${((pg.p50 / base.p50 - 1) * 100).toFixed(0)} %)`,
  );
} finally {
  await postgres.stop();
}
