/**
 * Warm start: the time from request to result of 01_echo.py, three ways, in the same run:
 *   fork      a child forked from the fork server's zygote (LangGraph already imported);
 *   fresh     a fresh sandboxed interpreter per execution (today's SandboxLauncher path);
 *   floor     in-process: one unsandboxed Python loads the program and runs the graph in a loop.
 * Then runs/s at saturation (fork and fresh), CPU per execution (whole machine, from /proc/stat:
 * engine, zygote, child and kernel together), and memory of the idle zygote and of one child.
 * The machines are shared and noisy: compare within a run, don't trust absolute numbers. CPU is
 * counted three ways: this benchmark's process tree exactly (a cpuacct cgroup of its own), the
 * kernel's workers (network namespace teardown happens there), and the whole machine (/proc/stat,
 * which includes every other tenant's work).
 *
 *   node --import tsx bench/warm-start.ts [--fork-runs 200] [--fresh-runs 20] [--floor-runs 200] [--seconds 10]
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { PYTHON_HARNESS_DIR, pythonLaunchSpec } from "../src/runtimes/python/launch.ts";
import { ForkServer, type ForkedSandbox } from "../src/runtimes/python/forkserver.ts";
import { cgroupMembers, procStatus } from "../src/runtimes/python/forkserver-procfs.ts";
import { SandboxLauncher } from "../src/sandbox/launcher.ts";
import type { SandboxProcess } from "../src/sandbox/process.ts";
import { programSource } from "../test/support/corpus.ts";
import { CpuMeter } from "./cpu.ts";
import { runJob, temporaryStore, type JobRun, type StartSandbox } from "../test/support/forkserver-jobs.ts";

const { values: args } = parseArgs({
  options: {
    "fork-runs": { type: "string", default: "200" },
    "fresh-runs": { type: "string", default: "20" },
    "floor-runs": { type: "string", default: "200" },
    seconds: { type: "string", default: "10" },
  },
});
const FORK_RUNS = Number(args["fork-runs"]);
const FRESH_RUNS = Number(args["fresh-runs"]);
const FLOOR_RUNS = Number(args["floor-runs"]);
const SATURATION_MS = Number(args.seconds) * 1000;

const config = loadConfig({});
const CODE = programSource("python/01_echo.py");
const INPUTS = { messages: [{ role: "user", content: "Hello" }] };
const LIMITS = { maxLogBytes: config.maxLogBytes, maxFrameBytes: config.maxOutputBytes };
const MIB = 1024 * 1024;

const spec = () =>
  pythonLaunchSpec(config.pythonPath, `/tmp/graphbox-exec-${crypto.randomUUID()}`, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    HOME: "/tmp/work",
    OPENAI_API_KEY: "bench",
  });

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const summary = (values: number[]) => ({
  n: values.length,
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  mean: values.reduce((a, b) => a + b, 0) / values.length,
});
const ms = (x: number): string => `${x.toFixed(1)} ms`;

/** Busy CPU time of the whole machine so far, ms (/proc/stat: user nice system irq softirq steal). */
function machineCpuMs(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = fields as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return ((user + nice + system + irq + softirq + steal) * 1000) / 100; // USER_HZ = 100
}

const cpuMeter = new CpuMeter();

/**
 * CPU of the kernel's worker threads so far, ms: work done on the executions' behalf outside their
 * tree (a network namespace is torn down by a kworker, after its last process exits). Every
 * kworker counts, so other tenants' kernel work is in it too; it is small next to theirs in /proc/stat.
 */
function kworkerCpuMs(): number {
  let ticks = 0;
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (!comm.startsWith("kworker")) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // gone
    }
  }
  return (ticks * 1000) / 100;
}
const engineCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface CpuSplit {
  /** Machine-wide busy time per run (/proc/stat: includes other tenants' work on a shared host). */
  machine: number;
  /** This benchmark's process tree per run (cpuacct). */
  tree: number;
  /** Of which the engine side (this Node process: spawning, sockets, SQLite checkpoints). */
  engine: number;
  /** Kernel workers per run (see kworkerCpuMs). */
  kworkers: number;
}

function cpuWindow(): () => (runs: number) => CpuSplit {
  const machine = machineCpuMs();
  const tree = cpuMeter.totalMs();
  const engine = engineCpuMs();
  const kworkers = kworkerCpuMs();
  return () => (runs) => ({
    machine: (machineCpuMs() - machine) / runs,
    tree: (cpuMeter.totalMs() - tree) / runs,
    engine: (engineCpuMs() - engine) / runs,
    kworkers: (kworkerCpuMs() - kworkers) / runs,
  });
}
const cpuText = (c: CpuSplit): string =>
  `tree ${ms(c.tree)} (engine ${ms(c.engine)}, sandbox side ${ms(c.tree - c.engine)}) + kernel workers ≈${ms(c.kworkers)}; machine ${ms(c.machine)}`;

function check(run: JobRun): JobRun {
  const state = run.answer?.type === "result" ? run.answer.state : null;
  if (state?.["count"] !== 2)
    throw new Error(`unexpected answer: ${JSON.stringify(run.answer)} ${JSON.stringify(run.exit)} ${run.logs}`);
  return run;
}

const { store, close: closeStore } = temporaryStore();

async function sequential(
  start: StartSandbox,
  runs: number,
): Promise<{ total: number[]; ready: number[]; cpu: CpuSplit }> {
  const total: number[] = [];
  const ready: number[] = [];
  const window = cpuWindow();
  for (let i = 0; i < runs; i++) {
    const run = check(await runJob(start, store, CODE, { inputs: INPUTS }));
    total.push(run.totalMs);
    ready.push(run.readyMs);
  }
  return { total, ready, cpu: window()(runs) };
}

async function saturate(
  start: StartSandbox,
  concurrency: number,
  durationMs: number,
  maxRuns = Infinity,
): Promise<{ runs: number; perSecond: number; latency: number[]; cpu: CpuSplit }> {
  const latency: number[] = [];
  const began = performance.now();
  const window = cpuWindow();
  let started = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() - began < durationMs && started < maxRuns) {
      started++;
      latency.push(check(await runJob(start, store, CODE, { inputs: INPUTS })).totalMs);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - began) / 1000;
  return { runs: latency.length, perSecond: latency.length / seconds, latency, cpu: window()(latency.length) };
}

/** The floor: the same program loaded and run in one warm, unsandboxed interpreter, per iteration. */
function floor(runs: number): { total: number[]; invoke: number[]; cpu: number[] } {
  const script = `
import json, sys, time
sys.path.insert(0, ${JSON.stringify(PYTHON_HARNESS_DIR)})
from graphbox_harness.loader import find_graph, load_program
code = sys.stdin.read()
inputs = ${JSON.stringify(JSON.stringify(INPUTS))}
total, invoke, cpu = [], [], []
for i in range(${runs + 5}):
    t0, c0 = time.perf_counter(), time.process_time()
    app = find_graph(load_program(code))
    t1 = time.perf_counter()
    state = app.invoke(json.loads(inputs))
    assert state["count"] == 2
    if i >= 5:  # warm-up
        total.append((time.perf_counter() - t0) * 1000); invoke.append((time.perf_counter() - t1) * 1000); cpu.append((time.process_time() - c0) * 1000)
print(json.dumps({"total": total, "invoke": invoke, "cpu": cpu}))
`;
  return JSON.parse(
    execFileSync(config.pythonPath, ["-I", "-B", "-c", script], { input: CODE, encoding: "utf8", maxBuffer: 64 * MIB }),
  ) as { total: number[]; invoke: number[]; cpu: number[] };
}

/**
 * Memory of one sandbox running 01_echo.py: the largest RSS/PSS/private of its Python process seen
 * while it ran (sampled every 2 ms: it exits right after its answer), and the peak its cgroup was charged.
 */
async function sandboxMemory(
  start: (
    handlers: Parameters<StartSandbox>[0],
  ) => Promise<{ sandbox: ForkedSandbox | SandboxProcess; findPython: () => number | undefined }>,
): Promise<Record<string, number>> {
  let best: Record<string, number> = { rssMiB: 0, pssMiB: 0, privateMiB: 0 };
  let cgroupPeakMiB = 0;
  let found: { sandbox: ForkedSandbox | SandboxProcess; findPython: () => number | undefined } | null = null;
  const timer = setInterval(() => {
    const pid = found?.findPython();
    if (pid === undefined) return;
    try {
      const sample = smaps(pid);
      if (sample["pssMiB"]! > best["pssMiB"]!) best = sample;
    } catch {
      // exited between the two reads
    }
  }, 2);
  check(
    await runJob(
      async (handlers) => {
        found = await start(handlers);
        return found.sandbox;
      },
      store,
      CODE,
      {
        inputs: INPUTS,
        onAnswer: async () => {
          const dir = found?.sandbox.cgroupDirs[0];
          if (dir) cgroupPeakMiB = Number(readFileSync(`${dir}/memory.max_usage_in_bytes`, "utf8")) / MIB;
        },
      },
    ),
  );
  clearInterval(timer);
  return { ...best, cgroupPeakMiB };
}

/** The sandbox's Python: pid 2 of its PID namespace (the forked job process; the runtime under bwrap's init). */
const pythonIn = (sandbox: ForkedSandbox | SandboxProcess) => (): number | undefined =>
  cgroupMembers(`${sandbox.cgroupDirs[0]}/cgroup.procs`).find(
    (pid) => procStatus(pid)?.nspid.at(-1) === 2 && readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("python"),
  );

function smaps(pid: number): Record<string, number> {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+) kB$`, "m").exec(text)?.[1] ?? 0) / 1024;
  return { rssMiB: kb("Rss"), pssMiB: kb("Pss"), privateMiB: kb("Private_Clean") + kb("Private_Dirty") };
}

const fmt = (o: Record<string, number>): string =>
  Object.entries(o)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(", ");

console.log(`warm start of 01_echo.py on ${cpus().length} cores (${cpus()[0]?.model ?? "?"})\n`);

const server = new ForkServer({ ...config.sandbox, pythonPath: config.pythonPath });
let t = performance.now();
await server.start();
console.log(`zygote start (bwrap + LangGraph import): ${ms(performance.now() - t)}`);
const launcher = new SandboxLauncher(config.sandbox);
t = performance.now();
await launcher.ensureUsable();
console.log(`launcher doctor probe: ${ms(performance.now() - t)}\n`);

const forkStart: StartSandbox = (handlers) => server.spawn(spec(), LIMITS, handlers);
const freshStart: StartSandbox = (handlers) => launcher.start(spec(), LIMITS, handlers);

await sequential(forkStart, 10); // warm-up
await sequential(freshStart, 1);

const f = floor(FLOOR_RUNS);
const fork = await sequential(forkStart, FORK_RUNS);
const fresh = await sequential(freshStart, FRESH_RUNS);

const forkS = summary(fork.total);
const freshS = summary(fresh.total);
const floorS = summary(f.total);
console.log("request → result, sequential (one at a time)");
console.log(
  `  floor  in-process   n=${floorS.n}  p50 ${ms(floorS.p50)}  p99 ${ms(floorS.p99)}   (load+compile ${ms(floorS.p50 - summary(f.invoke).p50)}, invoke ${ms(summary(f.invoke).p50)}; CPU p50 ${ms(percentile(f.cpu, 50))})`,
);
console.log(
  `  fork   fork server  n=${forkS.n}  p50 ${ms(forkS.p50)}  p99 ${ms(forkS.p99)}   (to ready p50 ${ms(percentile(fork.ready, 50))})`,
);
console.log(
  `  fresh  new sandbox  n=${freshS.n}  p50 ${ms(freshS.p50)}  p99 ${ms(freshS.p99)}   (to ready p50 ${ms(percentile(fresh.ready, 50))})`,
);
console.log(
  `  ratios p50: fresh/fork ${(freshS.p50 / forkS.p50).toFixed(1)}x, fork/floor ${(forkS.p50 / floorS.p50).toFixed(1)}x, fresh/floor ${(freshS.p50 / floorS.p50).toFixed(1)}x`,
);
console.log(
  `  ratios p99: fresh/fork ${(freshS.p99 / forkS.p99).toFixed(1)}x, fork/floor ${(forkS.p99 / floorS.p99).toFixed(1)}x`,
);
console.log("  CPU per execution:");
console.log(`    fork   ${cpuText(fork.cpu)}`);
console.log(`    fresh  ${cpuText(fresh.cpu)}`);
console.log(`    floor  ${ms(percentile(f.cpu, 50))} (the Python process only, p50)\n`);

console.log(`saturation (${cpus().length} cores)`);
for (const concurrency of [2, 4]) {
  const s = await saturate(forkStart, concurrency, SATURATION_MS);
  console.log(
    `  fork   concurrency ${concurrency}: ${s.perSecond.toFixed(1)} runs/s (${s.runs} runs), latency p50 ${ms(percentile(s.latency, 50))} p99 ${ms(percentile(s.latency, 99))}, CPU/run ${cpuText(s.cpu)}`,
  );
}
const s = await saturate(freshStart, 2, SATURATION_MS, Math.max(4, FRESH_RUNS));
console.log(
  `  fresh  concurrency 2: ${s.perSecond.toFixed(2)} runs/s (${s.runs} runs), latency p50 ${ms(percentile(s.latency, 50))} p99 ${ms(percentile(s.latency, 99))}, CPU/run ${cpuText(s.cpu)}\n`,
);

console.log("memory");
const zygote = server.zygoteInfo();
console.log(
  `  idle zygote: RSS ${((zygote?.rssBytes ?? 0) / MIB).toFixed(1)} MiB, PSS ${((zygote?.pssBytes ?? 0) / MIB).toFixed(1)} MiB (forks so far ${zygote?.forks ?? 0})`,
);
console.log(
  `  one forked child (job process, max while running): ${fmt(
    await sandboxMemory(async (h) => {
      const sandbox = await server.spawn(spec(), LIMITS, h);
      return { sandbox, findPython: pythonIn(sandbox) };
    }),
  )}`,
);
console.log(
  `  one fresh sandbox (python, max while running):   ${fmt(
    await sandboxMemory(async (h) => {
      const sandbox = await launcher.start(spec(), LIMITS, h);
      return { sandbox, findPython: pythonIn(sandbox) };
    }),
  )}`,
);
console.log(
  "  (cgroupPeak is what each execution is charged: a forked child's shared pages stay charged to the zygote's cgroup)",
);

await server.close();
closeStore();
cpuMeter.close();
