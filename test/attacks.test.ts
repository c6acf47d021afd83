/**
 * Hostile programs against the real sandbox, one attack per test. Each asserts that the program
 * failed to do what it tried, that the engine answered with a clean contract response, and that
 * the engine then serves a normal request.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { networkInterfaces, tmpdir } from "node:os";
import { basename } from "node:path";
import { after, before, describe, test } from "node:test";

import { loadConfig, type Config } from "../src/config/index.ts";
import { ERRORS } from "../src/contract/errors.ts";
import { SANDBOX_GATEWAY_SOCKET } from "../src/sandbox/bwrap.ts";
import { nativeSeccompArch, seccompFilter } from "../src/sandbox/seccomp.ts";
import { TEST_IMAGE } from "./support/container.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { processesWith, survivors } from "./support/processes.ts";
import { PYTHON_OK, pythonGraph } from "./support/programs.ts";
import { otherAbiProbe, REFUSED_CALLS, refusedCallsProbe, refusedNumbers } from "./support/seccomp-probe.ts";

type Json = Record<string, unknown>;

const ENGINE_KEYS = ["sk-test-engine-openai-key", "sk-ant-test-engine-anthropic-key"];
const ERROR_TYPES = new Set<string>(Object.values(ERRORS).map((e) => e.errorType));
const ARCH = nativeSeccompArch() ?? "x64";
/** A syscall number by name, from libseccomp's table. */
const NR = (name: string): number => [...seccompFilter(ARCH).table].find(([, n]) => n === name)![0];

/** Python executions start two ways, each its own sandbox: a fresh interpreter, or a fork of the warm zygote. */
const VARIANTS: { name: string; overrides: Partial<Config> }[] = [
  { name: "fresh sandbox", overrides: { pythonForkServer: false } },
  { name: "fork server", overrides: { pythonForkServer: true } },
].filter(
  // Against the image (npm run test:image), the way it ships: the fork server. Both ways make the
  // same bubblewrap sandbox with the same mounts and cgroups; the in-process run covers both.
  (variant) => TEST_IMAGE === null || variant.overrides.pythonForkServer,
);

let llm: LlmStandIn;
let engine: RunningEngine;

before(async () => (llm = await startLlmStandIn()));
after(async () => llm.close());

/** A contract response: HTTP 200, and either a result or an error of a known type with its execution id. */
function assertContract(status: number, body: Json): void {
  const describe = JSON.stringify(body).slice(0, 3000);
  assert.equal(status, 200, describe);
  if (body["status"] === "error") {
    assert.ok(ERROR_TYPES.has(String(body["error_type"])), describe);
    assert.equal(typeof body["error"], "string", describe);
    assert.equal(typeof body["execution_id"], "string", describe);
  } else {
    assert.ok(body["status"] === "success" || body["status"] === "interrupted", describe);
    assert.equal(typeof body["result"], "object", describe);
  }
}

async function run(code: string, config: Json = {}, on: RunningEngine = engine): Promise<Json> {
  const { status, body } = await on.post("/execute-langgraph", {
    code,
    language: "python",
    inputs: { value: 1 },
    config,
  });
  assertContract(status, body);
  return body;
}

/** What the program found out, returned as JSON in state.out. */
function findings(body: Json): Json {
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 3000));
  return JSON.parse(String((body["result"] as { state: { out: string } }).state.out)) as Json;
}

/** The engine's Python fork server, as /ready reports it. */
async function forkServerOf(on: RunningEngine): Promise<Json> {
  const ready = await on.ready();
  return (ready["warm_start"] as { python_fork_server: Json }).python_fork_server;
}

async function expectHealthy(on: RunningEngine = engine): Promise<void> {
  const body = await run(PYTHON_OK, {}, on);
  assert.equal(body["status"], "success", JSON.stringify(body));
  assert.equal((body["result"] as { state: { out: unknown } }).state.out, "fine");
}

/** A node body that fills `r` (a dict) and returns it as JSON; `{{...}}` in Python f-strings stay as written. */
function probe(body: string, preamble = ""): string {
  return pythonGraph(`import json, os, errno\nr = {}\n${body}\nreturn {"out": json.dumps(r, default=str)}`, preamble);
}

const ERRNO = `
import errno

def err(e):
    return errno.errorcode.get(getattr(e, "errno", None) or 0, type(e).__name__)

def attempt(fn):
    try:
        return ["DONE", repr(fn())[:200]]
    except BaseException as e:
        return [err(e)]
`;

const LIBC = `
import ctypes, errno
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def sys_errno(name, *args):
    result = getattr(libc, name)(*args)
    return errno.errorcode.get(ctypes.get_errno(), "OK") if result == -1 else ["OK", result]
`;

for (const variant of VARIANTS)
  describe(`attacks (${variant.name})`, () => {
    before(async () => {
      // With the LLM stand-in, the engine is configured with OPENAI_API_KEY and ANTHROPIC_API_KEY (ENGINE_KEYS).
      engine = await startEngine(llm, variant.overrides);
      if (variant.overrides.pythonForkServer) {
        const forkServer = await forkServerOf(engine);
        assert.equal(forkServer["state"], "warm", `no fork server: ${JSON.stringify(forkServer)}`);
      }
    });
    after(async () => engine.close());

    test("reading the engine's own files fails: only the runtime is visible", async () => {
      const dataDir = engine.dataDir;
      const targets = [
        `${engine.projectRoot}/package.json`,
        `${engine.projectRoot}/src/server.ts`,
        `${engine.projectRoot}/src/config/index.ts`,
        `${engine.projectRoot}/scripts/setup.sh`,
        `${engine.projectRoot}/../shared/DESIGN.md`,
        dataDir,
      ];
      const body = await run(
        probe(
          `for p in ${JSON.stringify(targets)}:
    try:
        with open(p) as f:
            r[p] = "READ " + f.read(80)
    except OSError as e:
        r[p] = err(e)
for d in [${JSON.stringify(engine.projectRoot)}, ${JSON.stringify(`${engine.projectRoot}/src`)}, "/opt/graphbox", "/opt/graphbox/python"]:
    try:
        r["ls " + d] = sorted(os.listdir(d))
    except OSError as e:
        r["ls " + d] = err(e)`,
          ERRNO,
        ),
      );
      const r = findings(body);
      for (const target of targets) assert.ok(!String(r[target]).startsWith("READ"), `${target}: ${String(r[target])}`);
      // The engine's checkout does not exist inside: the runtime's folders are at /opt/graphbox.
      assert.equal(r[`ls ${engine.projectRoot}`], "ENOENT");
      assert.equal(r[`ls ${engine.projectRoot}/src`], "ENOENT");
      assert.deepEqual(r["ls /opt/graphbox"], ["python"]);
      assert.deepEqual(r["ls /opt/graphbox/python"], ["harness", "venv"]);
      await expectHealthy();
    });

    test("/etc/shadow, the host's home and other host files do not exist inside", async () => {
      const body = await run(
        probe(
          `for p in ["/etc/shadow", "/etc/gshadow", "/root", "/root/.pyenv", "/home", "/etc/ssh", "/var", "/sys", "/boot", "/proc/1/root/etc/shadow", "/proc/kcore"]:
    r[p] = os.path.exists(p)
r["passwd"] = open("/etc/passwd").read()
r["etc"] = sorted(os.listdir("/etc"))`,
        ),
      );
      const r = findings(body);
      for (const path of [
        "/etc/shadow",
        "/etc/gshadow",
        "/root",
        "/root/.pyenv",
        "/home",
        "/etc/ssh",
        "/var",
        "/sys",
        "/boot",
        "/proc/1/root/etc/shadow",
      ])
        assert.equal(r[path], false, path);
      assert.match(String(r["passwd"]), /graphbox sandbox/, "the sandbox's own passwd, not the host's");
      assert.deepEqual(r["etc"], ["group", "hosts", "ld.so.cache", "localtime", "passwd"]);
      await expectHealthy();
    });

    test("no provider key in the environment, /proc/*/environ, /proc/*/cmdline or any visible file", async () => {
      const body = await run(
        probe(
          `import glob
r["environ"] = dict(os.environ)
for p in glob.glob("/proc/[0-9]*/environ") + glob.glob("/proc/[0-9]*/cmdline"):
    try:
        r[p] = open(p, "rb").read().decode("latin-1")
    except OSError as e:
        r[p] = err(e)
hits = []
keys = [k.encode() for k in ${JSON.stringify(ENGINE_KEYS.map((k) => [k.slice(0, 8), k.slice(8)]))} for k in ["".join(k)]]
for top in ["/tmp", "/etc", "/run", "/dev/shm", ${JSON.stringify(`${engine.projectRoot}/src`)}]:
    for root, dirs, files in os.walk(top):
        for name in files:
            try:
                with open(os.path.join(root, name), "rb") as f:
                    data = f.read(4_000_000)
            except OSError:
                continue
            if any(k in data for k in keys):
                hits.append(os.path.join(root, name))
r["files with a key"] = hits`,
          ERRNO,
        ),
      );
      const r = findings(body);
      const text = JSON.stringify(body);
      for (const key of ENGINE_KEYS) assert.ok(!text.includes(key), `${key} is visible to the program`);
      assert.deepEqual(r["files with a key"], []);
      const environ = r["environ"] as Record<string, string>;
      assert.ok(
        !Object.keys(environ).some((name) => /^(GRAPHBOX_(?!GATEWAY)|NODE_|npm_|SUDO|SSH|HOSTNAME$|USER$)/.test(name)),
        `host variables leaked: ${Object.keys(environ).join(" ")}`,
      );
      // pid 1 is the sandbox's own (bubblewrap's init, or the forked runtime itself), not the host's init.
      assert.match(String(r["/proc/1/cmdline"]), /bwrap|python/);
      await expectHealthy();
    });

    test("another execution's tmp is invisible, even while both run", async () => {
      const secret = `SECRET-${crypto.randomUUID()}`;
      const writer = probe(`import time
with open("/tmp/${secret}.txt", "w") as f:
    f.write("${secret}")
with open("${secret}-cwd.txt", "w") as f:
    f.write("${secret}")
r["cwd"] = os.getcwd()
time.sleep(6)`);
      const reader = probe(
        `import time
time.sleep(3)
r["cwd"] = os.getcwd()
r["tmp"] = sorted(os.path.join(d, n) for d, _, names in os.walk("/tmp") for n in names + _)
r["found"] = [p for p in r["tmp"] if "SECRET" in p]`,
      );
      const [a, b] = await Promise.all([run(writer), run(reader)]);
      const ra = findings(a);
      const rb = findings(b);
      // The same name in each (no host path inside), each in its own /tmp.
      assert.deepEqual([ra["cwd"], rb["cwd"]], ["/tmp/work", "/tmp/work"]);
      assert.deepEqual(rb["found"], []);
      const foreign = (rb["tmp"] as string[]).filter((p) => p !== rb["cwd"]);
      assert.deepEqual(foreign, [], "the reader sees only its own working directory in /tmp");
      await expectHealthy();
    });

    test("no network but the gateway: outside addresses, the engine's HTTP port, the host's addresses and DNS all fail", async () => {
      const enginePort = Number(new URL(engine.url).port);
      const otherPorts = await engine.otherPorts();
      assert.equal(
        otherPorts.length,
        1,
        `the engine listens on its HTTP port and its gateway's only: ${otherPorts.join()}`,
      );
      const gatewayPort = otherPorts[0]!;
      const hostAddresses = Object.values(networkInterfaces()).flatMap((list) =>
        (list ?? []).filter((a) => a.family === "IPv4" && !a.internal).map((a) => a.address),
      );
      const targets: [string, number][] = [
        ["1.1.1.1", 443],
        ["8.8.8.8", 53],
        ["127.0.0.1", enginePort],
        ...hostAddresses.flatMap((address): [string, number][] => [
          [address, enginePort],
          [address, gatewayPort],
        ]),
      ];
      const body = await run(
        probe(
          `import socket
for host, port in ${JSON.stringify(targets)}:
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        r[f"{host}:{port}"] = "CONNECTED"
    except OSError as e:
        r[f"{host}:{port}"] = err(e)
    finally:
        s.close()
r["dns"] = attempt(lambda: socket.getaddrinfo("example.com", 443))
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r["udp"] = attempt(lambda: u.sendto(b"x", ("8.8.8.8", 53)))
r["interfaces"] = [line.split(":")[0].strip() for line in open("/proc/net/dev").read().splitlines()[2:]]
# The one door: the gateway, through the harness's bridge on this port; it wants the execution's credential.
import urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request("http://127.0.0.1:${gatewayPort}/openai/v1/models", headers={"authorization": "Bearer stolen"}), timeout=5)
    r["gateway without credential"] = "ANSWERED"
except urllib.error.HTTPError as e:
    r["gateway without credential"] = e.code`,
          ERRNO,
        ),
      );
      const r = findings(body);
      for (const [host, port] of targets) assert.notEqual(r[`${host}:${port}`], "CONNECTED", `${host}:${port}`);
      assert.notEqual((r["dns"] as string[])[0], "DONE");
      assert.notEqual((r["udp"] as string[])[0], "DONE");
      assert.deepEqual(r["interfaces"], ["lo"]);
      assert.equal(r["gateway without credential"], 401);
      await expectHealthy();
    });

    test("a fork bomb ends as resource_limit", async () => {
      const body = await run(pythonGraph(`import os\nwhile True:\n    os.fork()`), { timeout_ms: 30_000 });
      assert.equal(body["error_type"], "resource_limit", JSON.stringify(body).slice(0, 2000));
      assert.match(String(body["error"]), /more than 64 processes/);
      await expectHealthy();
    });

    test("a memory bomb ends as memory_limit", async () => {
      const body = await run(pythonGraph(`hoard = []\nwhile True:\n    hoard.append(b"\\x01" * (32 * 1024 * 1024))`), {
        timeout_ms: 30_000,
      });
      assert.equal(body["error_type"], "memory_limit", JSON.stringify(body).slice(0, 2000));
      assert.match(String(body["error"]), /512 MiB/);
      await expectHealthy();
    });

    test("a CPU loop ends at the deadline (timeout), or at the CPU-seconds limit (resource_limit)", async () => {
      const loop = pythonGraph(`while True:\n    pass`);
      const started = Date.now();
      const timedOut = await run(loop, { timeout_ms: 2000 });
      assert.equal(timedOut["error_type"], "timeout");
      assert.ok(Date.now() - started < 15_000);

      // Importing LangGraph takes ~1.5 CPU seconds of the budget, several on a loaded machine: 10 leave the loop room.
      const stingy = await startEngine(undefined, {
        ...variant.overrides,
        sandbox: { ...loadConfig({}).sandbox, cpuSeconds: 10 },
      });
      try {
        const limited = await run(loop, { timeout_ms: 60_000 }, stingy);
        assert.equal(limited["error_type"], "resource_limit", JSON.stringify(limited).slice(0, 2000));
        assert.match(String(limited["error"]), /10 s of CPU time/);
        await expectHealthy(stingy);
      } finally {
        await stingy.close();
      }
      await expectHealthy();
    });

    test("sleeping past the deadline is a timeout, and nothing of the tree survives it", async () => {
      const marker = `graphbox-sleeper-${crypto.randomUUID()}`;
      const body = await run(
        pythonGraph(
          `import subprocess, time\nsubprocess.Popen(["/bin/sh", "-c", "sleep 1000; : ${marker}"])\ntime.sleep(1000)`,
        ),
        { timeout_ms: 1500 },
      );
      assert.equal(body["error_type"], "timeout");
      assert.deepEqual(await survivors(marker), []);
      await expectHealthy();
    });

    test("filling the disk stops at the tmpfs and file-size caps; nothing else is writable", async () => {
      const body = await run(
        probe(
          `written = 0
chunk = b"\\x01" * (1024 * 1024)
for i in range(200):
    try:
        with open(f"/tmp/fill-{i}", "wb") as f:
            for _ in range(16):
                f.write(chunk)
                f.flush()
                written += len(chunk)
    except OSError as e:
        r["stopped by"] = err(e)
        break
r["written"] = written
for d in ["/", "/usr", "/etc", "/dev", "/proc", ${JSON.stringify(engine.projectRoot)}, ${JSON.stringify(`${engine.projectRoot}/.venv`)}]:
    r["write " + d] = attempt(lambda: open(os.path.join(d, "x"), "w").close())`,
          ERRNO,
        ),
      );
      const r = findings(body);
      assert.equal(r["stopped by"], "ENOSPC");
      assert.ok(Number(r["written"]) <= 64 * 1024 * 1024, `wrote ${String(r["written"])} bytes`);
      // A project under /tmp has its mount-point directories in the sandbox's own tmpfs: writing there
      // writes only there. What counts is that nothing reached the host's files.
      const underTmp = engine.projectRoot.startsWith("/tmp/");
      for (const dir of [
        "/",
        "/usr",
        "/etc",
        "/dev",
        "/proc",
        ...(underTmp ? [] : [engine.projectRoot]),
        `${engine.projectRoot}/.venv`,
      ])
        assert.notEqual((r[`write ${dir}`] as string[])[0], "DONE", dir);
      assert.ok(
        !(await engine.exists(`${engine.projectRoot}/x`)) && !(await engine.exists(`${engine.projectRoot}/.venv/x`)),
        "a file reached the host's project",
      );
      await expectHealthy();
    });

    test("one file past the file-size limit fails (EFBIG)", async () => {
      const big = await startEngine(undefined, {
        ...variant.overrides,
        sandbox: { ...loadConfig({}).sandbox, fileSizeBytes: 8 * 1024 * 1024 },
      });
      try {
        const body = await run(
          probe(
            `r["write"] = attempt(lambda: open("/tmp/big", "wb").write(b"\\x01" * (9 * 1024 * 1024)))\nr["size"] = os.path.getsize("/tmp/big")`,
            ERRNO,
          ),
          {},
          big,
        );
        const r = findings(body);
        assert.deepEqual(r["write"], ["EFBIG"]);
        assert.ok(Number(r["size"]) <= 8 * 1024 * 1024);
      } finally {
        await big.close();
      }
      await expectHealthy();
    });

    test("flooding stdout is bounded", async () => {
      const body = await run(
        pythonGraph(
          `import sys\nline = "x" * 1023 + "\\n"\nfor i in range(32 * 1024):\n    sys.stdout.write(line)\nreturn {"out": "done"}`,
        ),
      );
      assert.equal(body["status"], "success");
      const logs = (body["result"] as { metadata: { logs: string } }).metadata.logs;
      assert.ok(logs.length < 70_000, `logs are ${logs.length} characters`);
      assert.match(logs, /\[graphbox: \d+ more bytes of output dropped\]$/);
      await expectHealthy();
    });

    test("returning a 1 GB state ends as output_limit or memory_limit", async () => {
      const body = await run(pythonGraph(`return {"out": "x" * (1024 ** 3)}`), { timeout_ms: 60_000 });
      assert.ok(
        ["output_limit", "memory_limit"].includes(String(body["error_type"])),
        JSON.stringify(body).slice(0, 2000),
      );
      await expectHealthy();
    });

    test("kill -1 and killing the parent reach only the sandbox; the host and other executions carry on", async () => {
      const marker = `graphbox-sentinel-${crypto.randomUUID()}`;
      const sentinel = spawn("/bin/sh", ["-c", `sleep 120; : ${marker}`], { stdio: "ignore" });
      try {
        const bystander = run(probe(`import time\ntime.sleep(5)\nr["alive"] = True`));
        await new Promise((r) => setTimeout(r, 500));
        const body = await run(
          probe(
            `import signal
r["ppid"] = os.getppid()
r["kill parent"] = attempt(lambda: os.kill(os.getppid(), signal.SIGKILL))
r["kill 1"] = attempt(lambda: os.kill(1, signal.SIGKILL))
r["kill -1"] = attempt(lambda: os.kill(-1, signal.SIGKILL))
r["visible pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())`,
            ERRNO,
          ),
        );
        assert.ok(["success", "error"].includes(String(body["status"])));
        if (body["status"] === "success") {
          const r = findings(body);
          // Inside its own PID namespace the program sees bwrap's init (1) and itself.
          assert.ok(
            (r["visible pids"] as number[]).every((pid) => pid < 100),
            JSON.stringify(r["visible pids"]),
          );
        }
        assert.equal(findings(await bystander)["alive"], true);
        assert.equal(processesWith(marker).length, 1, "the host's sentinel process was killed");
        assert.equal(sentinel.exitCode, null);
      } finally {
        sentinel.kill("SIGKILL");
      }
      await expectHealthy();
    });

    test("ptrace is refused (EPERM), even on the program's own child", async () => {
      const body = await run(
        probe(
          `import time
r["traceme"] = sys_errno("ptrace", 0, 0, 0, 0)
r["attach init"] = sys_errno("ptrace", 16, 1, 0, 0)
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
r["attach child"] = sys_errno("ptrace", 16, child, 0, 0)
r["seize child"] = sys_errno("ptrace", 0x4206, child, 0, 0)
os.kill(child, 9)
os.waitpid(child, 0)`,
          ERRNO + LIBC,
        ),
      );
      const r = findings(body);
      for (const key of ["traceme", "attach init", "attach child", "seize child"]) assert.equal(r[key], "EPERM", key);
      await expectHealthy();
    });

    test("TIOCSTI and TIOCLINUX are refused (EPERM), also with high bits set in the request", async () => {
      const ioctl = NR("ioctl");
      const body = await run(
        probe(
          `import fcntl, termios
for fd in (0, 1, 2):
    r[f"TIOCSTI fd{fd}"] = attempt(lambda: fcntl.ioctl(fd, termios.TIOCSTI, b"x"))
r["TIOCLINUX"] = attempt(lambda: fcntl.ioctl(1, 0x541C, b"\\x00"))
buf = ctypes.create_string_buffer(b"x")
r["TIOCSTI high bits"] = sys_errno("syscall", ${ioctl}, 1, ctypes.c_ulong(0x1_0000_5412), buf)
r["/dev/tty"] = attempt(lambda: os.open("/dev/tty", os.O_RDWR))`,
          ERRNO + LIBC,
        ),
      );
      const r = findings(body);
      for (const key of ["TIOCSTI fd0", "TIOCSTI fd1", "TIOCSTI fd2", "TIOCLINUX"])
        assert.deepEqual(r[key], ["EPERM"], key);
      assert.equal(r["TIOCSTI high bits"], "EPERM");
      assert.notEqual((r["/dev/tty"] as string[])[0], "DONE", "no controlling terminal");
      await expectHealthy();
    });

    test("unshare, mount, chroot and new namespaces are refused", async () => {
      const clone = NR("clone");
      const body = await run(
        probe(
          `import subprocess
r["unshare user"] = sys_errno("unshare", 0x10000000)
r["unshare mount"] = sys_errno("unshare", 0x00020000)
r["unshare nothing"] = sys_errno("unshare", 0)
r["clone newuser"] = sys_errno("syscall", ${clone}, 0x10000000 | 17, 0, 0, 0, 0)
r["clone newnet"] = sys_errno("syscall", ${clone}, 0x40000000 | 17, 0, 0, 0, 0)
r["mount tmpfs"] = sys_errno("mount", b"none", b"/tmp", b"tmpfs", 0, None)
r["umount /usr"] = sys_errno("umount2", b"/usr", 2)
r["chroot"] = sys_errno("chroot", b"/tmp")
p = subprocess.run(["unshare", "--user", "--map-root-user", "id", "-u"], capture_output=True, text=True)
r["unshare command"] = [p.returncode, p.stdout.strip()]
p = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/tmp"], capture_output=True, text=True)
r["setuid mount command"] = p.returncode`,
          ERRNO + LIBC,
        ),
      );
      const r = findings(body);
      for (const key of [
        "unshare user",
        "unshare mount",
        "unshare nothing",
        "clone newuser",
        "clone newnet",
        "mount tmpfs",
        "umount /usr",
        "chroot",
      ])
        assert.equal(r[key], "EPERM", key);
      assert.notEqual((r["unshare command"] as [number, string])[0], 0);
      assert.notEqual(r["setuid mount command"], 0);
      await expectHealthy();
    });

    test("every call the allowlist refuses, called through ctypes, fails with EPERM (clone3: ENOSYS)", async () => {
      const numbers = refusedNumbers(ARCH);
      const body = await run(
        probe(`import contextlib, io
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    exec(${JSON.stringify(refusedCallsProbe(ARCH))}, {})
r.update(json.loads(printed.getvalue()))`),
      );
      const r = findings(body);
      for (const name of Object.keys(numbers))
        assert.equal(r[name], "EPERM", `${name}(${REFUSED_CALLS[name]!.join(", ")})`);
      assert.equal(r["clone3"], "ENOSYS");
      assert.equal(r["getpid"], "OK");
      await expectHealthy();
    });

    if (ARCH === "x64") {
      test("a call through another ABI (i386 int 0x80, x32 numbers) kills the process (SIGSYS)", async () => {
        const body = await run(
          probe(`import contextlib, io
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    exec(${JSON.stringify(otherAbiProbe(ARCH))}, {})
r.update(json.loads(printed.getvalue()))`),
        );
        assert.deepEqual(findings(body), {
          "i386 getpid": "SIGSYS",
          "x32 getpid": "SIGSYS",
          "native getpid": "exit 0",
        });
        await expectHealthy();
      });
    }

    test("no host path inside: mountinfo, sys.path, module files, a traceback, an error, cwd, environment, command lines", async () => {
      const body = await run(
        probe(
          `import sys, traceback
r["mountinfo"] = open("/proc/self/mountinfo").read()
r["sys.path"] = sys.path
r["prefix"] = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.executable]
r["argv"] = sys.argv
r["cwd"] = os.getcwd()
r["harness folder"] = sorted(n for n in os.listdir("/opt/graphbox/python/harness") if n != "__pycache__")
r["env"] = dict(os.environ)
r["cmdlines"] = [open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()]
r["modules"] = sorted({m.__file__ for m in list(sys.modules.values()) if getattr(m, "__file__", None)})
try:
    from langgraph.graph import StateGraph
    StateGraph(dict).compile()
except Exception as e:
    r["traceback"] = traceback.format_exc()
    r["traceback files"] = [frame.filename for frame in traceback.extract_tb(e.__traceback__)]
r["stack"] = traceback.format_stack()`,
        ),
      );
      const r = findings(body);
      const failed = await run(
        pythonGraph(`import langgraph.graph\nlanggraph.graph.StateGraph(dict).compile()\nreturn {}`),
      );
      assert.equal(failed["status"], "error", JSON.stringify(failed).slice(0, 2000));
      const gatewayDir = await engine.gatewaySocketDir();
      // One line of mountinfo names a host path, and only the gateway socket's: a socket can be shown through a bind only (mounts.ts).
      const mountinfo = String(r["mountinfo"]).split("\n");
      const socketLine = mountinfo.filter((line) => line.split(" ")[4] === SANDBOX_GATEWAY_SOCKET);
      assert.equal(socketLine.length, 1, String(r["mountinfo"]));
      // Its root within its file system: the whole path, or its tail when /tmp is a mount of its own (a container's tmpfs).
      assert.ok(`${gatewayDir}/gateway.sock`.endsWith(socketLine[0]!.split(" ")[3]!), socketLine[0]);
      assert.ok(socketLine[0]!.split(" ")[3]!.endsWith(`/${basename(gatewayDir)}/gateway.sock`), socketLine[0]);
      // An engine that is not root (its image) binds the runtime's folders as they are: those lines name them (mounts.ts).
      const bound = engine.root ? [] : mountinfo.filter((line) => line.split(" ")[4]?.startsWith("/opt/graphbox/"));
      for (const line of bound) assert.ok(line.split(" ")[3]!.startsWith(`${engine.projectRoot}/`), line);
      const hidden = mountinfo.filter((line) => !socketLine.includes(line) && !bound.includes(line));
      const seen = JSON.stringify({ ...r, mountinfo: hidden, failed });
      for (const hostPath of [engine.projectRoot, `${tmpdir()}/graphbox-`, gatewayDir])
        assert.ok(
          !seen.includes(hostPath),
          `${hostPath} is visible inside: ${seen.slice(Math.max(0, seen.indexOf(hostPath) - 300), seen.indexOf(hostPath) + 300)}`,
        );
      for (const file of r["modules"] as string[])
        if (file !== "<workflow>") assert.match(file, /^\/(usr|opt\/graphbox\/python)\//, file);
      assert.ok(
        (r["traceback files"] as string[]).some((file) =>
          /^\/opt\/graphbox\/python\/venv\/lib\/python3\.\d+\/site-packages\/langgraph\//.test(file),
        ),
        JSON.stringify(r["traceback files"]),
      );
      assert.equal(r["cwd"], "/tmp/work");
      // Only the harness is mounted of the runtime's folder: the engine-side launcher and fork server stay outside.
      assert.deepEqual(r["harness folder"], ["graphbox_harness", "run.py"]);
      assert.equal((r["env"] as Record<string, string>)["HOME"], "/tmp/work");
      if (engine.root && (await forkServerOf(engine))["state"] === "off")
        assert.match(
          String(r["mountinfo"]),
          / \/opt\/graphbox\/python\/venv ro,[^ ]* - overlay graphbox ro,lowerdir=\/proc\/self\/fd\/9:empty/,
        );
      await expectHealthy();
    });

    test("a setuid file gains nothing: no root to chown to, nosuid tmp, no_new_privs", async () => {
      const body = await run(
        probe(
          `import shutil, subprocess, stat
shutil.copy("/usr/bin/id", "/tmp/myid")
r["chmod setuid"] = attempt(lambda: os.chmod("/tmp/myid", 0o4755))
r["chown root"] = attempt(lambda: os.chown("/tmp/myid", 0, 0))
r["setuid copy runs as"] = subprocess.run(["/tmp/myid", "-u"], capture_output=True, text=True).stdout.strip()
r["host su"] = subprocess.run(["/usr/bin/su", "-c", "id -u"], capture_output=True, text=True, input="", timeout=10).returncode
r["tmp mount"] = [line for line in open("/proc/self/mountinfo") if " /tmp " in line][0]
r["status"] = [line.strip() for line in open("/proc/self/status") if line.startswith(("Uid", "NoNewPrivs", "CapEff", "CapBnd"))]`,
          ERRNO,
        ),
      );
      const r = findings(body);
      assert.notEqual((r["chown root"] as string[])[0], "DONE");
      assert.equal(r["setuid copy runs as"], "65534");
      assert.notEqual(r["host su"], 0);
      assert.match(String(r["tmp mount"]), /nosuid/);
      for (const line of [
        "Uid:\t65534\t65534\t65534\t65534",
        "NoNewPrivs:\t1",
        "CapEff:\t0000000000000000",
        "CapBnd:\t0000000000000000",
      ])
        assert.ok((r["status"] as string[]).includes(line), `${line} not in ${JSON.stringify(r["status"])}`);
      await expectHealthy();
    });

    test("symlinks and hard links out of tmp lead nowhere new", async () => {
      const body = await run(
        probe(
          `os.symlink("/etc/shadow", "/tmp/shadow")
r["via symlink"] = attempt(lambda: open("/tmp/shadow").read())
os.symlink("/", "/tmp/root")
r["root through symlink"] = sorted(os.listdir("/tmp/root"))
r["proc 1 root"] = attempt(lambda: sorted(os.listdir("/proc/1/root")))
r["proc 1 root shadow"] = attempt(lambda: open("/proc/1/root/etc/shadow").read())
r["hard link to /usr"] = attempt(lambda: os.link("/usr/bin/id", "/tmp/id"))
r["cwd"] = os.getcwd()`,
          ERRNO,
        ),
      );
      const r = findings(body);
      assert.deepEqual(r["via symlink"], ["ENOENT"]);
      assert.notEqual((r["proc 1 root shadow"] as string[])[0], "DONE");
      const root = r["root through symlink"] as string[];
      const procRoot = r["proc 1 root"] as string[];
      if (procRoot[0] === "DONE")
        assert.equal(procRoot[1], JSON.stringify(root).replaceAll('"', "'").replaceAll(",", ", "));
      for (const entry of root)
        assert.ok(
          ["bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "run", "sbin", "tmp", "usr"].includes(
            entry,
          ),
          `unexpected /${entry}`,
        );
      assert.notEqual((r["hard link to /usr"] as string[])[0], "DONE");
      assert.equal(r["cwd"], "/tmp/work");
      await expectHealthy();
    });

    test("a background process left after the result does not survive it", async () => {
      const marker = `graphbox-daemon-${crypto.randomUUID()}`;
      const body = await run(
        pythonGraph(`import os, subprocess
subprocess.Popen(["/bin/sh", "-c", "sleep 1000; : ${marker}-child"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["sh", "-c", "sleep 1000; : ${marker}-daemon"])
    os._exit(0)
return {"out": "left something behind"}`),
      );
      assert.equal(body["status"], "success");
      assert.deepEqual(await survivors(marker), []);
      await expectHealthy();
    });

    test("20 executions in parallel, one a memory bomb: the other 19 succeed", async () => {
      const bomb = pythonGraph(`hoard = []\nwhile True:\n    hoard.append(b"\\x01" * (32 * 1024 * 1024))`);
      // All 20 at once, none queued: the engine's admission limits are raised for this test. 20 fresh
      // interpreters importing LangGraph on 2 shared cores can take longer than the usual start-up allowance.
      const wide = await startEngine(undefined, {
        ...variant.overrides,
        maxConcurrent: 20,
        keyMaxConcurrent: 20,
        startupTimeoutMs: 180_000,
      });
      try {
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) => run(i === 7 ? bomb : PYTHON_OK, { timeout_ms: 60_000 }, wide)),
        );
        assert.equal(answers[7]!["error_type"], "memory_limit", JSON.stringify(answers[7]).slice(0, 2000));
        answers.forEach(
          (answer, i) =>
            i !== 7 &&
            assert.equal(answer["status"], "success", `execution ${i}: ${JSON.stringify(answer).slice(0, 1000)}`),
        );
        await expectHealthy(wide);
      } finally {
        await wide.close();
      }
    });
  });
