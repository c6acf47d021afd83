/** The sandbox's parts on their own: the seccomp filter, the doctor, the gateway bridge, what a sandbox sees of the host, clean-up. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { loadConfig, PROJECT_ROOT } from "../src/config/index.ts";
import { jsLaunchSpec } from "../src/runtimes/js/launch.ts";
import { PYTHON_HARNESS_DIR, pythonLaunchSpec, SANDBOX_PYTHON_HARNESS } from "../src/runtimes/python/launch.ts";
import type { SandboxSpec } from "../src/sandbox/bwrap.ts";
import { seccompCheck } from "../src/sandbox/doctor.ts";
import { SandboxLauncher, type SandboxOptions } from "../src/sandbox/launcher.ts";
import type { SandboxProcess } from "../src/sandbox/process.ts";
import {
  ALLOWED_SYSCALLS,
  CLONE_NAMESPACE_FLAGS,
  PERSONALITIES,
  SOCKET_FAMILIES,
  TIOCLINUX,
  TIOCSTI,
} from "../src/sandbox/seccomp-policy.ts";
import { nativeSeccompArch, seccompFilter, seccompProgram, type SeccompArch } from "../src/sandbox/seccomp.ts";
import { ENGINE_IS_ROOT } from "../src/sandbox/tools.ts";
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, runSeccomp, seccompAction } from "./support/bpf.ts";
import { processesWith } from "./support/processes.ts";
import { otherAbiProbe, REFUSED_CALLS, refusedCallsProbe, refusedNumbers } from "./support/seccomp-probe.ts";

const config = loadConfig({});
const LIMITS = { maxLogBytes: 65_536, maxFrameBytes: 1_048_576 };
const NO_HANDLERS = { onMessage: () => undefined, onFault: () => undefined };
const ARCH: SeccompArch = nativeSeccompArch() ?? "x64";

function launcher(extra: Partial<SandboxOptions> = {}): SandboxLauncher {
  return new SandboxLauncher({ ...config.sandbox, ...extra });
}

/** Runs a Python snippet in a real sandbox with the runtime's files; returns what it printed. */
async function runPython(
  sandboxes: SandboxLauncher,
  code: string,
  env: Record<string, string> = {},
  workDir = "/tmp/graphbox-test",
): Promise<{ logs: string; sandbox: SandboxProcess }> {
  const spec = pythonLaunchSpec(config.pythonPath, workDir, { PATH: "/usr/bin:/bin", ...env });
  const harness = sandboxes.unsafe ? PYTHON_HARNESS_DIR : SANDBOX_PYTHON_HARNESS;
  return runSpec(sandboxes, {
    ...spec,
    args: ["-I", "-u", "-B", "-c", `import sys; sys.path.insert(0, ${JSON.stringify(harness)})\n${code}`],
  });
}

async function runSpec(
  sandboxes: SandboxLauncher,
  spec: SandboxSpec,
): Promise<{ logs: string; sandbox: SandboxProcess }> {
  const sandbox = await sandboxes.start(spec, LIMITS, NO_HANDLERS);
  await sandbox.exited;
  await sandbox.destroy();
  return { logs: sandbox.logs(), sandbox };
}

/** The JavaScript runtime's sandbox (its spec, its mounts, its filter) running `script` in node instead of the harness. */
function nodeSpec(workDir: string, script: string): SandboxSpec {
  const spec = jsLaunchSpec(
    workDir,
    { PATH: "/usr/bin:/bin", HOME: workDir, TMPDIR: workDir },
    config.sandbox.memoryBytes / (1024 * 1024),
  );
  return { ...spec, args: ["--input-type=module", "-e", script], hostArgs: undefined };
}

/** The last line of `logs` that parses as a JSON object. */
function lastJson(logs: string): Record<string, unknown> {
  const line = logs
    .trim()
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  assert.ok(line, logs);
  return JSON.parse(line) as Record<string, unknown>;
}

const ALLOWED = new Set(Object.values(ALLOWED_SYSCALLS).flat());
const BY_ARGUMENT = new Set(["clone", "clone3", "ioctl", "socket", "personality"]);
const ZYGOTE_ALSO = new Set(["mount", "umount2", "unshare", "capset"]);

test("the seccomp filter is libseccomp's allowlist: every call of the syscall table answers as the policy says", (t) => {
  for (const arch of ["x64", "arm64"] as const) {
    const auditArch = arch === "x64" ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64;
    for (const variant of ["execution", "zygote"] as const) {
      const filter = seccompFilter(arch, variant);
      assert.equal(filter.program.length % 8, 0);
      assert.ok(filter.program.length / 8 < 4096, "BPF_MAXINSNS");
      assert.ok(filter.table.size > 300, `libseccomp knows ${filter.table.size} calls on ${arch}`);
      const answer = (nr: number, args: bigint[] = []): string =>
        seccompAction(runSeccomp(filter.program, { nr, arch: auditArch, args }));
      const refused: string[] = [];
      for (const [nr, name] of filter.table) {
        const got = answer(nr);
        if (ALLOWED.has(name) || (variant === "zygote" && ZYGOTE_ALSO.has(name)))
          assert.equal(got, "allow", `${arch} ${variant}: ${name} (${nr})`);
        else if (!BY_ARGUMENT.has(name)) {
          assert.equal(got, "errno 1", `${arch} ${variant}: ${name} (${nr}) must fail with EPERM`);
          refused.push(name);
        }
      }
      // Every call of the brief's list that this architecture has is among the refused.
      for (const name of Object.keys(refusedNumbers(arch)))
        if (!BY_ARGUMENT.has(name) && !(variant === "zygote" && ZYGOTE_ALSO.has(name)))
          assert.ok(refused.includes(name), `${arch}: ${name} is not refused`);
      for (const name of [
        "inotify_init1",
        "inotify_add_watch",
        "inotify_rm_watch",
        "fanotify_init",
        "fanotify_mark",
        "ptrace",
        "bpf",
        "io_uring_setup",
        "userfaultfd",
        "perf_event_open",
      ])
        assert.ok(refused.includes(name), `${arch}: ${name}`);
      if (variant === "execution")
        t.diagnostic(`${arch}: refused (EPERM), ${refused.length} calls: ${refused.sort().join(" ")}`);

      // The calls refused by argument.
      const nr = (name: string): number => [...filter.table].find(([, n]) => n === name)![0];
      assert.equal(answer(nr("clone"), [0x11n]), "allow"); // SIGCHLD: a fork
      assert.equal(answer(nr("clone"), [0x3d0f00n]), "allow"); // glibc's pthread_create flags
      for (let bit = 0; bit < 32; bit++)
        if (CLONE_NAMESPACE_FLAGS & (1 << bit))
          assert.equal(answer(nr("clone"), [BigInt(1 << bit) | 0x11n]), "errno 1", `clone flag bit ${bit}`);
      assert.equal(answer(nr("clone3")), "errno 38");
      for (const request of [0x5401n, 0x541bn, 0x541dn, 0x5413n, 0x80045430n, 0xc0045401n, 0n, 0xffffffffn])
        assert.equal(answer(nr("ioctl"), [1n, request]), "allow", `ioctl 0x${request.toString(16)}`);
      for (const request of [TIOCSTI, TIOCLINUX]) {
        assert.equal(answer(nr("ioctl"), [1n, BigInt(request)]), "errno 1");
        assert.equal(
          answer(nr("ioctl"), [1n, (1n << 32n) | BigInt(request)]),
          "errno 1",
          "the kernel drops the upper half of the request",
        );
      }
      assert.equal(answer(nr("ioctl"), [1n, 1n << 32n]), "errno 1", "a request with upper bits set");
      for (const family of SOCKET_FAMILIES) assert.equal(answer(nr("socket"), [BigInt(family), 1n]), "allow");
      for (const family of [17n /* AF_PACKET */, 38n /* AF_ALG */, 40n /* AF_VSOCK */, 4n /* AF_IPX */])
        assert.equal(answer(nr("socket"), [family, 1n]), "errno 1", `socket family ${family}`);
      for (const persona of PERSONALITIES) assert.equal(answer(nr("personality"), [BigInt(persona)]), "allow");
      assert.equal(answer(nr("personality"), [0x0040000n]), "errno 1", "ADDR_NO_RANDOMIZE");

      // Another ABI: killed, whatever the call.
      if (arch === "x64") {
        assert.equal(
          seccompAction(runSeccomp(filter.program, { nr: 20, arch: AUDIT_ARCH_I386 })),
          "kill",
          "i386 getpid",
        );
        assert.equal(answer(0x40000000 | 39), "kill", "x32 getpid");
      } else
        assert.equal(
          seccompAction(runSeccomp(filter.program, { nr: 20, arch: 0x40000028 /* ARM */ })),
          "kill",
          "arm32 getpid",
        );
    }
  }
  // One filter for both runtimes: the launcher hands the same bytes to every sandbox.
  assert.equal(seccompProgram(ARCH).equals(seccompFilter(ARCH).program), true);
});

test("in a real sandbox of each runtime, every refused call fails with EPERM (clone3: ENOSYS)", async () => {
  const sandboxes = launcher();
  const numbers = refusedNumbers(ARCH);
  assert.ok(Object.keys(numbers).length >= 50, JSON.stringify(numbers));
  const probe = refusedCallsProbe(ARCH);
  const python = lastJson((await runPython(sandboxes, probe)).logs);
  // JavaScript cannot make a raw syscall: node, in the JavaScript runtime's sandbox, runs the same probe with Debian's python3, which inherits its filter.
  const js = lastJson(
    (
      await runSpec(
        sandboxes,
        nodeSpec(
          "/tmp/graphbox-test",
          `import { execFileSync } from "node:child_process"; process.stdout.write(execFileSync("/usr/bin/python3", ["-I", "-c", ${JSON.stringify(probe)}], { encoding: "utf8" }));`,
        ),
      )
    ).logs,
  );
  for (const [runtime, r] of [
    ["python", python],
    ["js", js],
  ] as const) {
    for (const name of Object.keys(numbers))
      assert.equal(r[name], "EPERM", `${runtime}: ${name}(${REFUSED_CALLS[name]!.join(", ")})`);
    assert.equal(r["clone3"], "ENOSYS", runtime);
    assert.equal(r["getpid"], "OK", runtime);
  }
});

// x86_64 only: on aarch64 no other ABI can be reached from Python (the filter's arm32 answer is checked above).
if (ARCH === "x64")
  test("a call through another ABI (i386 int 0x80, x32) kills the process with SIGSYS, in both runtimes' sandboxes", async () => {
    const sandboxes = launcher();
    const probe = otherAbiProbe(ARCH);
    const python = lastJson((await runPython(sandboxes, probe)).logs);
    const js = lastJson(
      (
        await runSpec(
          sandboxes,
          nodeSpec(
            "/tmp/graphbox-test",
            `import { execFileSync } from "node:child_process"; process.stdout.write(execFileSync("/usr/bin/python3", ["-I", "-c", ${JSON.stringify(probe)}], { encoding: "utf8" }));`,
          ),
        )
      ).logs,
    );
    for (const r of [python, js])
      assert.deepEqual(r, { "i386 getpid": "SIGSYS", "x32 getpid": "SIGSYS", "native getpid": "exit 0" });
  });

test("the gateway socket: a sandbox reaches it through its own bind; a host user of uid 65534 cannot", async () => {
  // As the gateway makes it: a private directory (0700), the socket in it.
  const dir = mkdtempSync(join(tmpdir(), "graphbox-gateway-"));
  const socketPath = join(dir, "gateway.sock");
  const server: Server = createServer((req, res) => res.end(`gateway saw ${req.url}`));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  try {
    const sandboxes = launcher();
    await sandboxes.useGateway(socketPath);
    const connect = `import json, os, socket
def get(path):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.connect(path)
        s.sendall(b"GET /probe HTTP/1.0\\r\\n\\r\\n")
        return s.recv(4096).decode().split("\\r\\n\\r\\n")[-1]
    except OSError as e:
        return type(e).__name__
`;
    const { logs } = await runPython(
      sandboxes,
      `${connect}
print(json.dumps({"answer": get(os.environ["GRAPHBOX_GATEWAY_SOCKET"]), "run": os.listdir("/run/graphbox"), "binds": [l for l in open("/proc/self/mountinfo") if "sock" in l or "graphbox-" in l]}))`,
    );
    const inside = lastJson(logs);
    assert.equal(inside["answer"], "gateway saw /probe", logs);
    assert.deepEqual(inside["run"], ["gateway.sock"]);
    assert.equal((inside["binds"] as string[]).length, 1, JSON.stringify(inside["binds"]));
    if (ENGINE_IS_ROOT) {
      // Another local user running as nobody/nogroup (what the sandboxes are on the host) finds the socket in /proc/net/unix, but cannot reach it.
      const host = spawnSync(
        "/usr/bin/setpriv",
        [
          "--reuid=65534",
          "--regid=65534",
          "--clear-groups",
          "--",
          "/usr/bin/python3",
          "-I",
          "-c",
          `${connect}\nprint(get(${JSON.stringify(socketPath)}))`,
        ],
        { encoding: "utf8" },
      );
      assert.equal(host.stdout.trim(), "PermissionError", host.stderr);
      assert.equal(readFileSync("/proc/net/unix", "utf8").includes(socketPath), true);
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the doctor finds every protection in force on this host", async () => {
  const report = await launcher().report();
  assert.equal(report.sandboxed, true, JSON.stringify(report, null, 2));
  for (const check of report.checks) assert.ok(check.ok, `${check.name}: ${check.detail}`);
  assert.equal(report.limits.enforced_by_cgroup, true);
});

test("the doctor says whether the seccomp allowlist is in force, and why not", async () => {
  const report = await launcher().report();
  const seccomp = report.checks.find((c) => c.name === "seccomp");
  assert.equal(seccomp?.ok, true, seccomp?.detail);
  assert.match(
    seccomp!.detail,
    /^allowlist in force: \d+ of \d+ calls allowed .* libseccomp .* inotify and new user namespaces refused$/,
  );
  const filter = seccompFilter(ARCH);
  const seen = new Map([
    ["seccomp", "2"],
    ["nnp", "1"],
    ["userns", "closed"],
    ["inotify", "refused"],
  ]);
  assert.equal(seccompCheck(seen, filter).ok, true);
  // What the doctor says when the filter in force is not the allowlist (a denylist lets inotify through), or none is.
  const denylist = seccompCheck(new Map([...seen, ["inotify", "open"]]), filter);
  assert.deepEqual(denylist, {
    ok: false,
    detail: "the allowlist is NOT in force: inotify_init1 was not refused (open)",
  });
  assert.match(seccompCheck(new Map([...seen, ["seccomp", "0"]]), filter).detail, /no filter loaded \(Seccomp: 0\)/);
  assert.deepEqual(
    seccompCheck(
      new Map(),
      null,
      "libseccomp could not compile the seccomp filter: No module named 'seccomp' (apt-get install python3-seccomp)",
    ),
    {
      ok: false,
      detail:
        "the allowlist is NOT in force: libseccomp could not compile the seccomp filter: No module named 'seccomp' (apt-get install python3-seccomp)",
    },
  );
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
    for (const i of [0, 1, 2])
      assert.match(logs, new RegExp(`hello from the gateway: /openai/v1/models\\?n=${i}`), logs);
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
    const { logs } = await runPython(
      unsafe,
      `import os\nprint("engine files", os.path.exists(${JSON.stringify(join(PROJECT_ROOT, "package.json"))}))`,
      {},
      workDir,
    );
    assert.match(logs, /^engine files True$/m, logs);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const report = await unsafe.report();
  assert.equal(report.sandboxed, false);
  assert.equal(report.mode, "none");
  assert.match(report.problems.join("\n"), /GRAPHBOX_UNSAFE_NO_SANDBOX=1/);
});
