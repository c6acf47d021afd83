/**
 * The engine process's start-up time and idle memory, run through tsx (`node --import tsx
 * src/server.ts`, what `npm start` ran before the compiled build) against compiled (`node
 * dist/server.js`, what it runs now), interleaved run by run so that all see the same machine.
 * tsx keeps what it transpiled in /tmp/tsx-<uid> and, with that cache warm, starts no esbuild;
 * `tsx, no cache` (TSX_DISABLE_CACHE=1) is a start after the sources changed or on a fresh /tmp
 * (a new container), where it transpiles every file through its esbuild service.
 *   health   spawn until GET /health answers 200 (the server listens);
 *   ready    spawn until GET /ready answers 200 (the sandbox's report is done);
 *   warm     spawn until the warm start is in place (each pool holds a sandbox, the Python fork
 *            server is warm), with the default configuration only;
 *   rss      the engine process's resident memory (VmRSS) once idle, after `--idle-ms` with
 *            nothing to do; `transpiler` is what tsx's esbuild service, a child of the engine,
 *            holds besides; the sandboxes (pools, zygote) are the same either way and not counted.
 * Each under two configurations: warm start off (GRAPHBOX_WARM_POOL_MAX=0 and no fork server:
 * only the engine), and the defaults. The machines are shared and noisy: compare within a run.
 *
 *   node --import tsx bench/engine-start.ts [--runs 5] [--idle-ms 5000]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { PROJECT_ROOT } from "../src/contract/paths.ts";
import { compiledServer, randomPort } from "../test/support/process.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "5" }, "idle-ms": { type: "string", default: "5000" } },
});
const RUNS = Number(args.runs);
const IDLE_MS = Number(args["idle-ms"]);

const TSX = [process.execPath, "--import", "tsx", join(PROJECT_ROOT, "src/server.ts")];
const VARIANTS = {
  tsx: { argv: TSX, env: {} },
  "tsx, no cache": { argv: TSX, env: { TSX_DISABLE_CACHE: "1" } },
  compiled: { argv: [process.execPath, compiledServer()], env: {} },
} as const;
type Variant = keyof typeof VARIANTS;
const ORDER = Object.keys(VARIANTS) as Variant[];

const CONFIGURATIONS: Record<string, Record<string, string>> = {
  "warm start off": { GRAPHBOX_WARM_POOL_MIN: "0", GRAPHBOX_WARM_POOL_MAX: "0", GRAPHBOX_PYTHON_FORK_SERVER: "0" },
  defaults: {},
};

interface Sample {
  healthMs: number;
  readyMs: number;
  warmMs: number | null;
  engineRssMb: number;
  transpilerRssMb: number;
}

const rssMb = (pid: number): number => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m);
  return line ? Number(line[1]) / 1024 : 0;
};

/** The engine's direct children that are esbuild (tsx's transpiler service). */
function transpilerPids(parent: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
        return ppid === String(parent) && readFileSync(`/proc/${pid}/comm`, "utf8").trim() === "esbuild"
          ? [Number(pid)]
          : [];
      } catch {
        return []; // exited while we looked
      }
    });
}

/** Polls every 10 ms (the tests' waitFor polls every 50, too coarse for these figures). */
async function until<T>(probe: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (performance.now() > deadline) throw new Error("the engine did not get there in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const answers = async (url: string): Promise<Response | null> => {
  const response = await fetch(url).catch(() => null);
  return response?.ok ? response : null;
};

/** Each pool holds a sandbox and the fork server is warm (or has said why it is off). */
async function warm(url: string): Promise<true | null> {
  const body = (await (await answers(`${url}/ready`))?.json()) as
    | {
        warm_start: {
          python_fork_server: { state: string; reason?: string };
          pools: Record<string, { waiting: number }>;
        };
      }
    | undefined;
  if (!body) return null;
  const { python_fork_server: fork, pools } = body.warm_start;
  const forkDone = fork.state === "warm" || fork.reason !== "starting";
  return forkDone && Object.values(pools).every((pool) => pool.waiting >= 1) ? true : null;
}

async function measure(variant: Variant, env: Record<string, string>, waitWarm: boolean): Promise<Sample> {
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-bench-start-"));
  const port = randomPort();
  const url = `http://127.0.0.1:${port}`;
  const [command, ...argv] = VARIANTS[variant].argv;
  const started = performance.now();
  const child: ChildProcess = spawn(command!, argv, {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      ...VARIANTS[variant].env,
      ...env,
      GRAPHBOX_PORT: String(port),
      GRAPHBOX_DATA_DIR: dataDir,
      GRAPHBOX_LOG_LEVEL: "warn",
    },
    stdio: "ignore",
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await until(() => answers(`${url}/health`), 60_000);
    const healthMs = performance.now() - started;
    await until(() => answers(`${url}/ready`), 60_000);
    const readyMs = performance.now() - started;
    let warmMs: number | null = null;
    if (waitWarm) {
      await until(() => warm(url), 120_000);
      warmMs = performance.now() - started;
    }
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const pid = child.pid!;
    return {
      healthMs,
      readyMs,
      warmMs,
      engineRssMb: rssMb(pid),
      transpilerRssMb: transpilerPids(pid).reduce((sum, p) => sum + rssMb(p), 0),
    };
  } finally {
    child.kill("SIGTERM");
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const spread = (values: number[]): string => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`;

const METRICS: [string, (s: Sample) => number | null, string][] = [
  ["spawn → /health", (s) => s.healthMs, "ms"],
  ["spawn → /ready", (s) => s.readyMs, "ms"],
  ["spawn → warm start in place", (s) => s.warmMs, "ms"],
  ["engine RSS, idle", (s) => s.engineRssMb, "MiB"],
  ["transpiler (esbuild) RSS", (s) => s.transpilerRssMb, "MiB"],
  ["engine + transpiler RSS", (s) => s.engineRssMb + s.transpilerRssMb, "MiB"],
];

console.log(
  `node ${process.version}; ${RUNS} runs per variant and configuration, interleaved; idle ${IDLE_MS} ms before RSS is read\n`,
);
const cell = (values: number[], unit: string): string =>
  `${median(values).toFixed(unit === "ms" ? 0 : 1)} ${unit} (${spread(values)})`;
const ratio = (after: number[], before: number[]): string =>
  median(before) === 0 ? "–" : (median(after) / median(before)).toFixed(2);
for (const [name, env] of Object.entries(CONFIGURATIONS)) {
  const waitWarm = name === "defaults";
  const samples = Object.fromEntries(ORDER.map((variant) => [variant, [] as Sample[]])) as Record<Variant, Sample[]>;
  // One throwaway start each: the first start after a build reads every file from disk.
  for (const variant of ORDER) await measure(variant, env, waitWarm);
  for (let run = 0; run < RUNS; run++) {
    // Rotated, so that no variant always follows the same one.
    for (const variant of ORDER.map((_, i) => ORDER[(i + run) % ORDER.length]!))
      samples[variant].push(await measure(variant, env, waitWarm));
  }
  console.log(`### ${name}\n`);
  console.log(
    `| | ${ORDER.map((v) => `${v} (median, range)`).join(" | ")} | compiled / tsx | compiled / tsx, no cache |`,
  );
  console.log(`|---|${ORDER.map(() => "---|").join("")}---|---|`);
  for (const [label, pick, unit] of METRICS) {
    const values = (variant: Variant): number[] => samples[variant].map(pick).filter((v): v is number => v !== null);
    if (values("tsx").length === 0) continue;
    console.log(
      `| ${label} | ${ORDER.map((v) => cell(values(v), unit)).join(" | ")} | ${ratio(values("compiled"), values("tsx"))} | ${ratio(values("compiled"), values("tsx, no cache"))} |`,
    );
  }
  console.log("");
}
