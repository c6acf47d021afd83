/**
 * A peer: LangGraph's own development server (`langgraph dev`, from `langgraph-cli[inmem]`) running
 * the corpus' trivial echo graph (../shared/workflows/python/01_echo.py), against its floor measured
 * in the same run (the machines are shared and noisy: compare, don't trust absolute numbers):
 *   1. the floor: the same graph invoked in-process, in one warm interpreter of the peer's venv (same
 *      langgraph as the server), as bench/http.ts's floor() does;
 *   2. sequential run latency (p50/p99 over --runs, after 10 warm-up runs) of the Agent Protocol's
 *      stateless wait endpoint, `POST /runs/wait`, and of a threaded run, `POST /threads/{id}/runs/wait`
 *      on a thread made just before (`POST /threads`, not timed), a fresh one per run;
 *   3. runs/s at saturation: --clients (8) clients calling `POST /runs/wait` for --seconds (15).
 *
 * The peer is not a dependency of Graphbox: it lives in a virtualenv of its own, outside the repo:
 *
 *   /usr/bin/python3 -m venv /work/peer-venv && /work/peer-venv/bin/pip install "langgraph-cli[inmem]"
 *   node --import tsx bench/langgraph-dev.ts [--runs 100] [--venv /work/peer-venv] [--seconds 15] [--clients 8] [--jobs N]
 *
 * The bench starts `langgraph dev --no-browser --port P` from that venv itself, in a temporary project
 * (echo.py, the corpus program unchanged, and langgraph.json {"graphs": {"echo": "./echo.py:app"}}),
 * as a user would run it (hot reload on, its default single background job per worker unless --jobs
 * passes --n-jobs-per-worker), loopback only, with analytics, tracing and the PyPI version check off
 * and its log level at WARNING (its log goes to a file in the project, printed if it fails). It stops
 * the server's whole process group at the end and removes the temporary files.
 *
 * Reading the figures: `langgraph dev`'s in-memory runtime hands runs to its background worker through
 * a queue that, when idle, is polled every 0.5 s, and each poll takes only runs created before the
 * moment it started sleeping (langgraph_runtime_inmem/ops.py, Runs.next: `now` is read before
 * `asyncio.sleep(0.5)`, then `created_at < now`). A run posted while the worker sleeps is therefore
 * picked up by the poll after next: a lone sequential run waits 0.5 to 1 s (about 1 s when the client
 * posts right after the previous answer), whatever the graph. Under load the worker finds work on every
 * poll and stops sleeping, so runs/s at saturation measures the server itself. That holds for the
 * default single job: with --jobs 10 the worker is free again while runs are queued, goes back to
 * polling, and saturation fell to about 8 runs/s (8 clients, about 1 s each) when this was written.
 */
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { programSource } from "../test/support/corpus.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    venv: { type: "string", default: "/work/peer-venv" },
    seconds: { type: "string", default: "15" },
    clients: { type: "string", default: "8" },
    jobs: { type: "string" },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const CLIENTS = Number(args.clients);
const WARMUP = 10;
const VENV = args.venv;
const PYTHON = join(VENV, "bin", "python");
const CLI = join(VENV, "bin", "langgraph");

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const hello = { messages: [{ role: "user", content: "Hello" }] };
const ECHO = programSource("python/01_echo.py");

function fail(message: string): never {
  console.error(`bench/langgraph-dev: ${message}`);
  process.exit(1);
}

// The peer must be installed: the venv, its CLI, and the in-memory server the CLI imports for `dev`.
if (!existsSync(PYTHON))
  fail(
    `no virtualenv at ${VENV} (no ${PYTHON}); make one: /usr/bin/python3 -m venv ${VENV} && ${VENV}/bin/pip install "langgraph-cli[inmem]"`,
  );
if (!existsSync(CLI))
  fail(`${CLI} is missing; install the CLI into the venv: ${VENV}/bin/pip install "langgraph-cli[inmem]"`);
let versions: Record<string, string>;
try {
  const script = `import json, importlib.metadata as m, platform\nimport langgraph_api, langgraph_runtime_inmem\nprint(json.dumps({**{d: m.version(d) for d in ["langgraph", "langgraph-api", "langgraph-cli", "langgraph-runtime-inmem", "langchain-core"]}, "python": platform.python_version()}))`;
  versions = JSON.parse(
    execFileSync(PYTHON, ["-c", script], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }),
  ) as Record<string, string>;
} catch (err: unknown) {
  fail(
    `${VENV} lacks the in-memory server \`langgraph dev\` needs (${String((err as { stderr?: unknown }).stderr ?? err)
      .trim()
      .split("\n")
      .pop()}); install it: ${VENV}/bin/pip install "langgraph-cli[inmem]"`,
  );
}

/** The floor: the same graph invoked in one warm interpreter of the peer's venv; every timing in ms after the warm-up. */
function floor(): number[] {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-peer-floor-"));
  try {
    writeFileSync(join(dir, "prog.py"), ECHO);
    const script = `import sys, time, json\nsys.path.insert(0, ${JSON.stringify(dir)})\nimport prog\nts=[]\nfor i in range(${RUNS + WARMUP}):\n    t=time.perf_counter(); prog.app.invoke({"messages":[{"role":"user","content":"Hello"}]}); ts.append((time.perf_counter()-t)*1000)\nprint(json.dumps(ts[${WARMUP}:]))`;
    return JSON.parse(execFileSync(PYTHON, ["-c", script], { encoding: "utf8" })) as number[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

async function call(url: string, body: unknown): Promise<{ ms: number; ok: boolean; answer: unknown }> {
  const t = performance.now();
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as unknown;
    const ms = performance.now() - t;
    // The echo graph answers the user's message, "echo: Hello", then "ECHO: HELLO".
    const messages = (answer as { messages?: { content?: unknown }[] } | null)?.messages;
    return { ms, ok: response.ok && messages?.at(-1)?.content === "ECHO: HELLO", answer };
  } catch (err: unknown) {
    return { ms: performance.now() - t, ok: false, answer: String(err) };
  }
}

const loadAtStart = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const project = mkdtempSync(join(tmpdir(), "graphbox-langgraph-dev-"));
writeFileSync(join(project, "echo.py"), ECHO);
writeFileSync(
  join(project, "langgraph.json"),
  JSON.stringify({ dependencies: ["."], graphs: { echo: "./echo.py:app" } }),
);
const logFile = join(project, "server.log");
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

// Its own process group (detached), so that stopping it takes the reloader and its server process too.
const log = openSync(logFile, "a");
const env: NodeJS.ProcessEnv = { ...process.env };
for (const key of Object.keys(env)) if (/^(LANGSMITH_|LANGCHAIN_|LANGGRAPH_)/.test(key)) delete env[key];
const server = spawn(
  CLI,
  [
    "dev",
    "--no-browser",
    "--host",
    "127.0.0.1",
    "--port",
    String(port),
    ...(args.jobs ? ["--n-jobs-per-worker", args.jobs] : []),
  ],
  {
    cwd: project,
    detached: true,
    stdio: ["ignore", log, log],
    env: {
      ...env,
      LANGGRAPH_CLI_NO_ANALYTICS: "1",
      LANGGRAPH_NO_VERSION_CHECK: "true",
      LANGSMITH_TRACING: "false",
      LANGCHAIN_TRACING_V2: "false",
      LOG_LEVEL: "WARNING",
      PYTHONUNBUFFERED: "1",
    },
  },
);
let exited = false;
const serverExited = new Promise<void>((resolve) => server.once("exit", () => ((exited = true), resolve())));

let stopped = false;
async function stop(): Promise<void> {
  if (stopped) return;
  stopped = true;
  if (!exited && server.pid) {
    try {
      process.kill(-server.pid, "SIGTERM");
    } catch {
      // already gone
    }
    const killer = setTimeout(() => {
      try {
        process.kill(-server.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5000);
    await serverExited;
    clearTimeout(killer);
  }
  // The reloader's child may outlive the parent for a moment: make sure the group is empty.
  if (server.pid) {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // no such group: done
    }
  }
  closeSync(log);
  rmSync(project, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () =>
    stop().then(
      () => process.exit(130),
      () => process.exit(130),
    ),
  );

try {
  // Ready when GET /ok answers and the graph runs.
  const started = performance.now();
  for (;;) {
    if (exited) throw new Error(`langgraph dev exited before it was ready; its log:\n${readFileSync(logFile, "utf8")}`);
    if (performance.now() - started > 90_000)
      throw new Error(`langgraph dev not ready after 90 s; its log:\n${readFileSync(logFile, "utf8")}`);
    try {
      if ((await fetch(`${base}/ok`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const readyMs = performance.now() - started;
  const probe = await call(`${base}/runs/wait`, { assistant_id: "echo", input: hello });
  if (!probe.ok)
    throw new Error(
      `POST /runs/wait did not run the echo graph: ${JSON.stringify(probe.answer)}\nits log:\n${readFileSync(logFile, "utf8")}`,
    );

  const floorTimes = floor();

  const stateless = { assistant_id: "echo", input: hello };
  const sequential = async (
    one: () => Promise<{ ms: number; ok: boolean }>,
  ): Promise<{ times: number[]; failed: number }> => {
    for (let i = 0; i < WARMUP; i++) await one();
    const times: number[] = [];
    let failed = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await one();
      if (r.ok) times.push(r.ms);
      else failed++;
    }
    return { times, failed };
  };
  const statelessRuns = await sequential(() => call(`${base}/runs/wait`, stateless));
  const threadedRuns = await sequential(async () => {
    const thread = (await (
      await fetch(`${base}/threads`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })
    ).json()) as { thread_id: string };
    return call(`${base}/threads/${thread.thread_id}/runs/wait`, stateless);
  });

  // Saturation: CLIENTS clients, stateless runs, for SECONDS.
  let done = 0;
  let failedSaturation = 0;
  const satStarted = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (performance.now() - satStarted < SECONDS * 1000) {
        if ((await call(`${base}/runs/wait`, stateless)).ok) done++;
        else failedSaturation++;
      }
    }),
  );
  const rate = done / ((performance.now() - satStarted) / 1000);

  const f50 = percentile(floorTimes, 50);
  const f99 = percentile(floorTimes, 99);
  const row = (name: string, r: { times: number[]; failed: number }, runsPerSecond: string): string => {
    const p50 = percentile(r.times, 50);
    return `| ${name} | ${p50.toFixed(1)} ms | ${percentile(r.times, 99).toFixed(1)} ms | ${(p50 / f50).toFixed(0)}x | ${r.times.length}/${r.times.length + r.failed} | ${runsPerSecond} |`;
  };
  console.log(`# langgraph dev (peer) on the echo graph\n`);
  console.log(
    `machine: ${execFileSync("nproc").toString().trim()} cores; node ${process.version}; load average at start ${loadAtStart}`,
  );
  console.log(
    `peer: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ", ",
      )}; venv ${VENV}; ready in ${(readyMs / 1000).toFixed(1)} s; n-jobs-per-worker ${args.jobs ?? "default"}`,
  );
  console.log(`runs: ${RUNS} sequential after ${WARMUP} warm-up; saturation ${CLIENTS} clients x ${SECONDS} s\n`);
  console.log("| what | p50 | p99 | p50 ratio to floor | ok | runs/s at saturation |\n|---|---|---|---|---|---|");
  console.log(
    `| floor (in-process invoke, peer venv) | ${f50.toFixed(2)} ms | ${f99.toFixed(2)} ms | 1x | ${floorTimes.length}/${floorTimes.length} | |`,
  );
  console.log(
    row(
      "langgraph dev, POST /runs/wait (stateless)",
      statelessRuns,
      `${rate.toFixed(1)} (${done} ok, ${failedSaturation} failed)`,
    ),
  );
  console.log(row("langgraph dev, POST /threads/{id}/runs/wait (fresh thread)", threadedRuns, ""));
  console.log(`\nload average at end ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}`);
} catch (err: unknown) {
  console.error(`bench/langgraph-dev: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await stop();
}
