/** The sandbox's parts on their own: the seccomp program, the doctor, the gateway bridge, clean-up. */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { loadConfig, PROJECT_ROOT } from "../src/config/index.ts";
import { PYTHON_HARNESS_DIR, pythonLaunchSpec } from "../src/runtimes/python/launch.ts";
import { SandboxLauncher, sandboxOptions, type SandboxOptions } from "../src/sandbox/launcher.ts";
import type { SandboxProcess } from "../src/sandbox/process.ts";
import { deniedSyscalls, seccompProgram } from "../src/sandbox/seccomp.ts";
import { processesWith } from "./support/processes.ts";

const config = loadConfig({});
const LIMITS = { maxLogBytes: 65_536, maxFrameBytes: 1_048_576 };
const NO_HANDLERS = { onMessage: () => undefined, onFault: () => undefined };

function launcher(extra: Partial<SandboxOptions> = {}): SandboxLauncher {
  return new SandboxLauncher({ ...sandboxOptions(config), ...extra });
}

/** Runs a Python snippet in a real sandbox with the runtime's files; returns what it printed. */
async function runPython(sandboxes: SandboxLauncher, code: string, env: Record<string, string> = {}, workDir = "/tmp/graphbox-test"): Promise<{ logs: string; sandbox: SandboxProcess }> {
  const spec = pythonLaunchSpec(config.pythonPath, workDir, { PATH: "/usr/bin:/bin", ...env });
  const sandbox = await sandboxes.start({ ...spec, args: ["-I", "-u", "-B", "-c", `import sys; sys.path.insert(0, ${JSON.stringify(PYTHON_HARNESS_DIR)})\n${code}`] }, LIMITS, NO_HANDLERS);
  await sandbox.exited;
  await sandbox.destroy();
  return { logs: sandbox.logs(), sandbox };
}

test("the seccomp program is whole instructions, checks the architecture first and names every denied call", () => {
  for (const arch of ["x64", "arm64"] as const) {
    const program = seccompProgram(arch);
    assert.equal(program.length % 8, 0);
    assert.ok(program.length / 8 < 4096, "BPF_MAXINSNS");
    // First instruction: load seccomp_data.arch (BPF_LD|BPF_W|BPF_ABS, offset 4).
    assert.equal(program.readUInt16LE(0), 0x20);
    assert.equal(program.readUInt32LE(4), 4);
    const constants = new Set<number>();
    for (let i = 0; i < program.length; i += 8) constants.add(program.readUInt32LE(i + 4));
    for (const [name, nr] of Object.entries(deniedSyscalls(arch))) assert.ok(constants.has(nr), `${arch}: ${name} (${nr}) missing`);
  }
});

test("the doctor finds every protection in force on this host", async () => {
  const report = await launcher().report();
  assert.equal(report.sandboxed, true, JSON.stringify(report, null, 2));
  for (const check of report.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
  assert.equal(report.limits.enforced_by_cgroup, true);
});

test("the gateway bridge carries HTTP from the sandbox's loopback to the gateway's Unix socket", async () => {
  // The socket must be reachable by the sandbox's host uid (65534 when the engine is root).
  const dir = mkdtempSync(join(tmpdir(), "graphbox-test-gateway-"));
  chmodSync(dir, 0o711);
  const socketPath = join(dir, "gateway.sock");
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end(`hello from the gateway: ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
  try {
    const { logs } = await runPython(
      launcher({ gatewaySocket: socketPath }),
      `import os, urllib.request
from graphbox_harness import bridge
print("socket", os.environ["GRAPHBOX_GATEWAY_SOCKET"])
bridge.start(os.environ["GRAPHBOX_GATEWAY_SOCKET"], int(os.environ["GRAPHBOX_GATEWAY_PORT"]))
for i in range(3):  # several connections, each forwarded on its own
    print(urllib.request.urlopen(f"http://127.0.0.1:{os.environ['GRAPHBOX_GATEWAY_PORT']}/openai/v1/models?n={i}", timeout=5).read().decode())`,
      { GRAPHBOX_GATEWAY_PORT: "18080" },
    );
    assert.match(logs, /^socket \/run\/graphbox\/gateway\.sock$/m, logs);
    for (const i of [0, 1, 2]) assert.match(logs, new RegExp(`hello from the gateway: /openai/v1/models\\?n=${i}`), logs);
    assert.deepEqual(seen, ["GET /openai/v1/models?n=0", "GET /openai/v1/models?n=1", "GET /openai/v1/models?n=2"]);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a sandbox leaves no process, cgroup or mount behind, even with a daemon running", async () => {
  const sandboxes = launcher();
  const mountsBefore = readFileSync("/proc/self/mountinfo", "utf8");
  const marker = `graphbox-leftover-${crypto.randomUUID()}`;
  const { logs, sandbox } = await runPython(
    sandboxes,
    `import subprocess, os
subprocess.Popen(["/bin/sh", "-c", "sleep 300; : ${marker}"], start_new_session=True)
print("pid", os.getpid())`,
  );
  assert.match(logs, /^pid \d+$/m, logs);
  assert.equal(sandbox.cgroupDirs.length, 2, "cgroup v1: one memory and one pids cgroup");
  for (const dir of sandbox.cgroupDirs) assert.equal(existsSync(dir), false, `${dir} is still there`);
  assert.deepEqual(processesWith(marker), []);
  assert.equal(sandboxes.running, 0);
  assert.equal(readFileSync("/proc/self/mountinfo", "utf8"), mountsBefore);
});

test("GRAPHBOX_UNSAFE_NO_SANDBOX=1 runs a plain child process, and the doctor says so", async () => {
  const unsafe = launcher({ unsafeNoSandbox: true });
  const workDir = mkdtempSync(join(tmpdir(), "graphbox-test-unsafe-"));
  try {
    const { logs } = await runPython(unsafe, `import os\nprint("engine files", os.path.exists(${JSON.stringify(join(PROJECT_ROOT, "package.json"))}))`, {}, workDir);
    assert.match(logs, /^engine files True$/m, logs);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const report = await unsafe.report();
  assert.equal(report.sandboxed, false);
  assert.equal(report.mode, "none");
  assert.match(report.problems.join("\n"), /GRAPHBOX_UNSAFE_NO_SANDBOX=1/);
});
