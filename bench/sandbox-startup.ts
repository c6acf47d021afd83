/**
 * What the sandbox adds to an execution's start, against an unsandboxed process start measured
 * in the same run (interleaved, so both see the same machine):
 *   process   `/bin/true`, from spawn until nothing of it is left: a plain child, against the whole
 *             sandbox (cgroup, sh -> prlimit -> setpriv -> bwrap, namespaces, mounts, seccomp,
 *             teardown and cgroup removal);
 *   runtime   the Python harness from spawn to `ready` (LangGraph imported), plain against sandboxed.
 * The machines are shared and noisy: compare within a run, don't trust absolute numbers.
 *
 *   npm run bench:sandbox -- [--runs 40] [--runtime-runs 6]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { pythonLaunchSpec } from "../src/runtimes/python/launch.ts";
import { SandboxLauncher } from "../src/sandbox/launcher.ts";
import type { LaunchSpec, SandboxHandlers } from "../src/sandbox/process.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "40" }, "runtime-runs": { type: "string", default: "6" } },
});
const RUNS = Number(args.runs);
const RUNTIME_RUNS = Number(args["runtime-runs"]);

const config = loadConfig({});
const LIMITS = { maxLogBytes: config.maxLogBytes, maxFrameBytes: config.maxOutputBytes };
const sandboxes = new SandboxLauncher(config.sandbox);
// The unsandboxed start is the GRAPHBOX_UNSAFE_NO_SANDBOX=1 path: a plain child process.
const plain = new SandboxLauncher({ ...config.sandbox, unsafeNoSandbox: true });

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
const p90 = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(values.length * 0.9) - 1)] ?? NaN;
const ms = (value: number): string => `${value.toFixed(1)} ms`;

/** Spawn to gone (the tree exited, its cgroup removed). */
async function processRun(launcher: SandboxLauncher, spec: LaunchSpec): Promise<number> {
  const started = performance.now();
  const sandbox = await launcher.start(spec, LIMITS, { onMessage: () => undefined, onFault: () => undefined });
  const exit = await sandbox.exited;
  await sandbox.destroy();
  if (exit.code !== 0) throw new Error(`/bin/true failed: ${JSON.stringify(exit)} ${sandbox.logs()}`);
  return performance.now() - started;
}

/** Spawn to the harness's `ready` (LangGraph imported). */
async function runtimeRun(launcher: SandboxLauncher, workDir: string): Promise<number> {
  const started = performance.now();
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => (ready = resolve));
  const handlers: SandboxHandlers = {
    onMessage: (m) => {
      if (m.type === "ready") ready();
    },
    onFault: () => undefined,
  };
  const sandbox = await launcher.start(
    pythonLaunchSpec(config.pythonPath, workDir, { PATH: "/usr/bin:/bin", HOME: workDir, LANG: "C.UTF-8" }),
    LIMITS,
    handlers,
  );
  await Promise.race([
    isReady,
    sandbox.exited.then((exit) =>
      Promise.reject(new Error(`harness exited: ${JSON.stringify(exit)} ${sandbox.logs()}`)),
    ),
  ]);
  const elapsed = performance.now() - started;
  await sandbox.destroy();
  return elapsed;
}

function report(name: string, unsandboxed: number[], sandboxed: number[]): void {
  const [u, s] = [median(unsandboxed), median(sandboxed)];
  console.log(
    `${name.padEnd(8)} unsandboxed median ${ms(u)} (p90 ${ms(p90(unsandboxed))}), sandboxed median ${ms(s)} (p90 ${ms(p90(sandboxed))}): +${ms(s - u)}, ratio ${(s / u).toFixed(2)}x`,
  );
}

const report0 = await sandboxes.ensureUsable();
console.log(
  `sandbox: ${report0.checks.map((c) => `${c.name} ${c.ok ? "ok" : "FAIL"}`).join(", ")}; ${RUNS} process runs, ${RUNTIME_RUNS} runtime runs each`,
);

const workDir = mkdtempSync(join(tmpdir(), "graphbox-bench-"));
try {
  const trueSpec = (cwd: string): LaunchSpec => ({ command: "/bin/true", args: [], cwd, env: {} });
  // Warm-up: first spawns pay for page cache and the doctor's probe.
  await processRun(plain, trueSpec(workDir));
  await processRun(sandboxes, trueSpec(workDir));
  const processPlain: number[] = [];
  const processSandboxed: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    processPlain.push(await processRun(plain, trueSpec(workDir)));
    processSandboxed.push(await processRun(sandboxes, trueSpec(workDir)));
  }
  report("process", processPlain, processSandboxed);

  const runtimePlain: number[] = [];
  const runtimeSandboxed: number[] = [];
  for (let i = 0; i < RUNTIME_RUNS; i++) {
    runtimePlain.push(await runtimeRun(plain, workDir));
    runtimeSandboxed.push(await runtimeRun(sandboxes, workDir));
  }
  report("runtime", runtimePlain, runtimeSandboxed);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
