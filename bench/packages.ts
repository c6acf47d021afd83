/**
 * What the runtimes' packages cost at start-up and in memory, as the engine starts them:
 *   python fork    a child forked from the fork server's zygote: spawn to `ready`; the zygote's
 *                  time to `zygote_ready` (its imports and warm-up) and its idle RSS and PSS;
 *   python fresh   a fresh sandboxed interpreter: spawn to `ready` (its imports before it);
 *   js snapshot    a sandboxed Node started from the startup snapshot: spawn to `ready`, RSS at
 *                  `ready`, the blob's size;
 *   js plain       a sandboxed Node importing the runtime from disk (harness/main.mjs): spawn to `ready`;
 * and, unsandboxed, what importing each added package costs on top of what the harness already
 * imported (time and resident memory, one fresh process per package).
 * Run it before and after a change to the runtime's packages or to what the harnesses pre-import,
 * and compare the two runs: the machines are shared and noisy, absolute numbers move.
 *
 *   node --import tsx bench/packages.ts [--fork-runs 40] [--fresh-runs 6] [--js-runs 10]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { harnessEnvironment, PENDING_CREDENTIAL } from "../src/runtimes/environment.ts";
import { JS_RUNTIME_DIR, jsLaunchSpec } from "../src/runtimes/js/launch.ts";
import { snapshotFiles, usableSnapshot } from "../src/runtimes/js/snapshot/stamp.ts";
import { ForkServer } from "../src/runtimes/python/forkserver.ts";
import { PYTHON_HARNESS_DIR, pythonLaunchSpec } from "../src/runtimes/python/launch.ts";
import { SandboxLauncher } from "../src/sandbox/launcher.ts";
import type { LaunchSpec, SandboxProcess } from "../src/sandbox/process.ts";
import type { Sandbox, SandboxHandlers } from "../src/sandbox/sandbox.ts";

const { values: args } = parseArgs({
  options: {
    "fork-runs": { type: "string", default: "40" },
    "fresh-runs": { type: "string", default: "6" },
    "js-runs": { type: "string", default: "10" },
  },
});

const config = loadConfig({});
const LIMITS = { maxLogBytes: config.maxLogBytes, maxFrameBytes: config.maxOutputBytes };
const HEAP_MB = config.sandbox.memoryBytes / (1024 * 1024);
const MIB = 1024 * 1024;

/** The packages issue 18 added, as a program imports them. */
const PYTHON_PACKAGES = [
  "langchain.chat_models",
  "langchain.agents",
  "langgraph_supervisor",
  "langgraph_swarm",
  "dotenv",
];
const JS_PACKAGES = [
  "langchain/chat_models/universal",
  "langchain",
  "@langchain/langgraph-supervisor",
  "@langchain/langgraph-swarm",
  "dotenv/config",
];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const ms = (value: number): string => `${value.toFixed(1)} ms`;
const mib = (bytes: number): string => `${(bytes / MIB).toFixed(1)} MiB`;

const read = (path: string): string => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
};
const rssBytesOf = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(read(`/proc/${pid}/status`))?.[1] ?? NaN) * 1024;

function descendants(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${out[i]!}/task`);
    } catch {
      // gone
    }
    for (const tid of tasks)
      out.push(...read(`/proc/${out[i]!}/task/${tid}/children`).split(" ").filter(Boolean).map(Number));
  }
  return out;
}

/**
 * Starts one sandbox, waits for `ready`, reads `atReady` then, and tears it down. Returns spawn to
 * `ready` in ms and what `atReady` read.
 */
async function untilReady<S extends Sandbox, T>(
  start: (handlers: SandboxHandlers) => Promise<S>,
  atReady: (sandbox: S) => T,
): Promise<{ readyMs: number; measured: T }> {
  const began = performance.now();
  let sandbox: S | null = null;
  let onReady!: () => void;
  let onFailure!: (err: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    onReady = resolve;
    onFailure = reject;
  });
  sandbox = await start({
    onMessage(message) {
      if (message.type === "ready") onReady();
    },
    onFault: (fault) => onFailure(new Error(`channel fault: ${JSON.stringify(fault)}`)),
  });
  sandbox.exited.then(
    () => onFailure(new Error(`exited before ready: ${sandbox?.logs() ?? ""}`)),
    (err: unknown) => onFailure(err instanceof Error ? err : new Error(String(err))),
  );
  await ready;
  const readyMs = performance.now() - began;
  const measured = atReady(sandbox);
  sandbox.kill();
  await sandbox.destroy();
  return { readyMs, measured };
}

const workDir = (): string => `/tmp/graphbox-bench-${crypto.randomUUID()}`;
const env = (dir: string): Record<string, string> => harnessEnvironment(dir, "http://127.0.0.1:9", PENDING_CREDENTIAL);
const launcher = new SandboxLauncher(config.sandbox);
await launcher.ensureUsable();

// --- Python
const server = new ForkServer({ ...config.sandbox, pythonPath: config.pythonPath });
let began = performance.now();
await server.start();
const zygoteStartMs = performance.now() - began;
const pythonSpec = (): LaunchSpec => {
  const dir = workDir();
  return pythonLaunchSpec(config.pythonPath, dir, env(dir));
};
const forkReady: number[] = [];
for (let i = 0; i < Number(args["fork-runs"]) + 5; i++) {
  const { readyMs } = await untilReady(
    (h) => server.spawn(pythonSpec(), LIMITS, h),
    () => null,
  );
  if (i >= 5) forkReady.push(readyMs); // the first forks warm the engine's side
}
const zygote = server.zygoteInfo();
await server.close();
const freshReady: number[] = [];
for (let i = 0; i < Number(args["fresh-runs"]); i++)
  freshReady.push(
    (
      await untilReady(
        (h) => launcher.start(pythonSpec(), LIMITS, h),
        () => null,
      )
    ).readyMs,
  );

// --- JavaScript
const jsDirs: string[] = [];
const jsSpec = (snapshot: boolean): LaunchSpec => {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-bench-js-"));
  jsDirs.push(dir);
  return jsLaunchSpec(dir, env(dir), HEAP_MB, { snapshot });
};
const nodeRss = (sandbox: SandboxProcess): number => {
  const pid = sandbox.pid;
  const node = pid === undefined ? undefined : descendants(pid).find((p) => read(`/proc/${p}/comm`).trim() === "node");
  return node === undefined ? NaN : rssBytesOf(node);
};
const hasSnapshot = usableSnapshot(HEAP_MB) !== null;
const snapReady: number[] = [];
const snapRss: number[] = [];
const plainReady: number[] = [];
for (let i = 0; i < Number(args["js-runs"]); i++) {
  if (hasSnapshot) {
    const run = await untilReady((h) => launcher.start(jsSpec(true), LIMITS, h), nodeRss);
    snapReady.push(run.readyMs);
    snapRss.push(run.measured);
  }
  if (i < Math.ceil(Number(args["js-runs"]) / 2))
    plainReady.push(
      (
        await untilReady(
          (h) => launcher.start(jsSpec(false), LIMITS, h),
          () => null,
        )
      ).readyMs,
    );
}

// --- A Python start's imports without and with packages.preload(), unsandboxed, interleaved (the same machine for both)
const pythonStart = (preload: boolean): { cpuMs: number; rss: number } => {
  const script = `
import sys, time
sys.path.insert(0, ${JSON.stringify(PYTHON_HARNESS_DIR)})
from graphbox_harness.loader import seed_globals
from graphbox_harness import runner  # noqa: F401
seed_globals()
if ${preload ? "True" : "False"}:
    from graphbox_harness import packages
    packages.preload()
rss = int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) * 1024
print(time.process_time() * 1000, rss)
`;
  const [cpu, rss] = execFileSync(config.pythonPath, ["-I", "-c", script], { encoding: "utf8" }).trim().split(" ");
  return { cpuMs: Number(cpu), rss: Number(rss) };
};
const starts: Record<"without" | "with", { cpuMs: number; rss: number }[]> = { without: [], with: [] };
for (let i = 0; i < 8; i++) {
  starts.without.push(pythonStart(false));
  starts.with.push(pythonStart(true));
}

// --- Each package's own import, unsandboxed, on top of the harness's imports
const pythonImport = (name: string): { ms: number; rss: number } => {
  const script = `
import sys, time
sys.path.insert(0, ${JSON.stringify(PYTHON_HARNESS_DIR)})
from graphbox_harness.loader import seed_globals
from graphbox_harness import runner  # noqa: F401
seed_globals()
rss = lambda: int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) * 1024
r0, t0 = rss(), time.perf_counter()
__import__(${JSON.stringify(name)})
print((time.perf_counter() - t0) * 1000, rss() - r0)
`;
  const [t, r] = execFileSync(config.pythonPath, ["-I", "-c", script], { encoding: "utf8" }).trim().split(" ");
  return { ms: Number(t), rss: Number(r) };
};
const jsImport = (name: string): { ms: number; rss: number } => {
  const script = `
const base = ["zod", "@langchain/core/messages", "@langchain/langgraph", "@langchain/openai", "@langchain/anthropic"];
for (const s of base) await import(s);
const r0 = process.memoryUsage().rss, t0 = performance.now();
await import(${JSON.stringify(name)});
console.log(performance.now() - t0, process.memoryUsage().rss - r0);
`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    cwd: join(JS_RUNTIME_DIR, "harness"),
  });
  const [t, r] = out.trim().split(" ");
  return { ms: Number(t), rss: Number(r) };
};
const imports = (run: (name: string) => { ms: number; rss: number }, names: string[]): string[] =>
  names.map((name) => {
    const runs = [run(name), run(name), run(name)];
    return `    ${name.padEnd(34)} ${ms(median(runs.map((r) => r.ms)))}  +${mib(median(runs.map((r) => r.rss)))}`;
  });

console.log("python");
console.log(`  zygote start to zygote_ready   ${ms(zygoteStartMs)}`);
console.log(
  `  zygote idle                    RSS ${mib(zygote?.rssBytes ?? NaN)}, PSS ${mib(zygote?.pssBytes ?? NaN)}`,
);
console.log(`  fork  spawn to ready, p50      ${ms(median(forkReady))} (n=${forkReady.length})`);
console.log(`  fresh spawn to ready, p50      ${ms(median(freshReady))} (n=${freshReady.length})`);
const startCpu = (key: "without" | "with"): number => median(starts[key].map((s) => s.cpuMs));
const startRss = (key: "without" | "with"): number => median(starts[key].map((s) => s.rss));
console.log("  a start's imports, unsandboxed, interleaved, median of 8 (CPU, RSS):");
console.log(`    without packages.preload()     ${ms(startCpu("without"))}, ${mib(startRss("without"))}`);
console.log(
  `    with packages.preload()        ${ms(startCpu("with"))}, ${mib(startRss("with"))}  (${(startCpu("with") / startCpu("without")).toFixed(3)}x CPU, ${(startRss("with") / startRss("without")).toFixed(3)}x RSS)`,
);
console.log("  each added package, imported after the harness's imports (unsandboxed, median of 3):");
console.log(imports(pythonImport, PYTHON_PACKAGES).join("\n"));
console.log("javascript");
if (hasSnapshot) {
  console.log(`  snapshot spawn to ready, p50   ${ms(median(snapReady))} (n=${snapReady.length})`);
  console.log(`  snapshot RSS at ready, p50     ${mib(median(snapRss))}`);
  console.log(`  snapshot blob                  ${mib(statSync(snapshotFiles(HEAP_MB).blob).size)}`);
} else console.log("  (no usable snapshot: run scripts/js-snapshot.ts)");
console.log(`  plain spawn to ready, p50      ${ms(median(plainReady))} (n=${plainReady.length})`);
console.log("  each added package, imported after the harness's preload (unsandboxed, median of 3):");
console.log(imports(jsImport, JS_PACKAGES).join("\n"));
for (const dir of jsDirs) rmSync(dir, { recursive: true, force: true });
