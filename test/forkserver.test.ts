/**
 * The fork server with real bubblewrap, real LangGraph, real cgroups: a forked child answers as
 * a fresh sandbox does, sees nothing of its siblings or of earlier jobs, is confined as tightly,
 * trips its own limits, and leaves nothing behind.
 */
import assert from "node:assert/strict";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { parseZygoteReport, ProtocolError } from "../src/contract/protocol/messages.ts";
import { pythonLaunchSpec } from "../src/runtimes/python/launch.ts";
import { ForkServer, type ForkServerOptions, type ForkedSandbox } from "../src/runtimes/python/forkserver.ts";
import { procStatus } from "../src/runtimes/python/forkserver-procfs.ts";
import { SandboxLauncher } from "../src/sandbox/launcher.ts";
import type { LaunchSpec } from "../src/sandbox/process.ts";
import { programSource } from "./support/corpus.ts";
import { runJob, stateOf, temporaryStore, type JobOptions, type JobRun } from "./support/forkserver-jobs.ts";
import { hostProcesses } from "./support/processes.ts";

const config = loadConfig({});
const MIB = 1024 * 1024;
const LIMITS = { maxLogBytes: 65_536, maxFrameBytes: 16 * MIB };
const GATEWAY_PORT = "18080";
const CREDENTIAL = "gbx-test-credential-of-this-job";
const ECHO_INPUTS = { messages: [{ role: "user", content: "Hello" }] };

/** Limits small enough to trip quickly, large enough for LangGraph. */
const SERVER_OPTIONS: Omit<ForkServerOptions, "gatewaySocket"> = {
  ...config.sandbox,
  pythonPath: config.pythonPath,
  memoryBytes: 256 * MIB,
  maxProcesses: 64,
  cpuSeconds: 3,
  fileSizeBytes: MIB,
  tmpSizeBytes: 16 * MIB,
  openFiles: 256,
};

let server: ForkServer;
let gateway: Server;
let gatewayDir: string;
const gatewayRequests: string[] = [];
const { store, close: closeStore } = temporaryStore();

/** What the engine's runtime.launch gives a Python execution (the credential is the gateway's, per job). */
function launchSpec(extraEnv: Record<string, string> = {}): LaunchSpec {
  return pythonLaunchSpec(config.pythonPath, `/tmp/graphbox-exec-${crypto.randomUUID()}`, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    HOME: "/tmp/work",
    LANG: "C.UTF-8",
    OPENAI_API_KEY: CREDENTIAL,
    OPENAI_API_BASE: `http://127.0.0.1:${GATEWAY_PORT}/openai/v1`,
    GRAPHBOX_GATEWAY_PORT: GATEWAY_PORT,
    ...extraEnv,
  });
}

let lastSandbox: ForkedSandbox | null = null;

function forked(
  code: string,
  options: JobOptions = {},
  on: ForkServer = server,
  env: Record<string, string> = {},
): Promise<JobRun> {
  return runJob(
    async (handlers) => {
      const sandbox = await on.spawn(launchSpec(env), LIMITS, handlers);
      lastSandbox = sandbox;
      return sandbox;
    },
    store,
    code,
    options,
  );
}

/** The zygote's children on the host (C processes), by PPid. */
function zygoteChildren(on: ForkServer = server): number[] {
  const zygote = on.zygoteInfo()?.hostPid;
  return hostProcesses()
    .filter((p) => procStatus(p.pid)?.ppid === zygote)
    .map((p) => p.pid);
}

/** Nothing of a finished job is left: no process under the zygote, no cgroup, no socket. */
async function assertNothingLeft(sandbox: ForkedSandbox | null, on: ForkServer = server): Promise<void> {
  assert.ok(sandbox);
  for (const dir of sandbox.cgroupDirs) assert.equal(existsSync(dir), false, `${dir} is still there`);
  assert.deepEqual(readdirSync(on.jobsDir), [], "a job socket is left");
  // The zygote reaps C right after it exits; give it a moment.
  for (let i = 0; i < 50 && zygoteChildren(on).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(zygoteChildren(on), [], "a child of the zygote is still running");
  assert.equal(on.running, 0);
}

/** A program whose one node returns `{"report": <report()>}`; `body` defines report(). */
function reporter(body: string): string {
  return `import os, sys, socket, subprocess, threading, time, ctypes
from typing import TypedDict
from langgraph.graph import StateGraph, START, END

class State(TypedDict, total=False):
    report: dict

${body}

def node(state: State):
    return {"report": report()}

builder = StateGraph(State)
builder.add_node("node", node)
builder.add_edge(START, "node")
builder.add_edge("node", END)
app = builder.compile()
`;
}

/** Leaves everything it can behind: files, env, a module global, a thread, a daemon, a listener. */
const LEAKER = (hold: boolean): string =>
  reporter(`
def report():
    open("/tmp/leaked-file", "w").write("secret")
    open("/dev/shm/leaked-shm", "w").write("secret")
    os.environ["GRAPHBOX_LEAK"] = "leaked"
    import langgraph
    langgraph.GRAPHBOX_LEAK = "leaked"
    threading.Thread(target=time.sleep, args=(300,), name="leaked-thread", daemon=True).start()
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 47001))
    listener.listen()
    globals()["kept"] = listener
    print("LEAKER-READY", flush=True)
    if ${hold ? "True" : "False"}:
        time.sleep(60)
    return {"ok": True}
`);

/** Looks around for anything another execution left or is doing. */
const PROBE = reporter(`
def open_files():
    targets = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            targets.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the listing's own fd, closed by now
    return sorted(targets)

def report():
    import langgraph
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    cmdlines = []
    for p in pids:
        try:
            cmdlines.append(open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode(errors="replace").strip())
        except OSError:
            pass
    try:
        socket.create_connection(("127.0.0.1", 47001), timeout=2).close()
        connect = "connected"
    except OSError as err:
        connect = type(err).__name__
    own = socket.socket()
    own.bind(("127.0.0.1", 47001))
    own.close()
    return {
        "tmp": sorted(os.listdir("/tmp")),
        "shm": sorted(os.listdir("/dev/shm")),
        "jobs": [os.path.exists("/run/graphbox/jobs"), open_files()],
        "cmdlines": cmdlines,
        "ps": subprocess.run(["ps", "-e", "-o", "pid=,comm="], capture_output=True, text=True).stdout,
        "connect": connect,
        "env_leak": os.environ.get("GRAPHBOX_LEAK"),
        "global_leak": getattr(langgraph, "GRAPHBOX_LEAK", None),
        "threads": sorted(t.name for t in threading.enumerate()),
        "modules": "__leaked__" in sys.modules,
    }
`);

function assertSeesNothing(report: Record<string, unknown>): void {
  assert.ok(!(report["tmp"] as string[]).includes("leaked-file"), `/tmp: ${JSON.stringify(report["tmp"])}`);
  assert.deepEqual(report["shm"], []);
  const [jobsMounted, fds] = report["jobs"] as [boolean, string[]];
  assert.equal(jobsMounted, false, "the jobs directory is not mounted");
  assert.ok(
    !fds.some((target) => target.includes("graphbox-jobs-")),
    `the jobs directory is not open: ${fds.join(", ")}`,
  );
  const cmdlines = (report["cmdlines"] as string[]).join("\n");
  assert.doesNotMatch(cmdlines, /sleep/, cmdlines);
  assert.doesNotMatch(report["ps"] as string, /sleep/, report["ps"] as string);
  assert.equal(report["connect"], "ConnectionRefusedError");
  assert.equal(report["env_leak"], null);
  assert.equal(report["global_leak"], null);
  assert.ok(!(report["threads"] as string[]).includes("leaked-thread"), JSON.stringify(report["threads"]));
}

const reportOf = (run: JobRun): Record<string, unknown> => stateOf(run)["report"] as Record<string, unknown>;

before(async () => {
  // A stand-in for the gateway's Unix socket, reachable by the sandbox's host uid (65534 when root).
  gatewayDir = mkdtempSync(join(tmpdir(), "graphbox-test-fs-gateway-"));
  chmodSync(gatewayDir, 0o711);
  const socketPath = join(gatewayDir, "gateway.sock");
  gateway = createServer((req, res) => {
    gatewayRequests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ""}`);
    res.end(`gateway saw ${req.url}`);
  });
  await new Promise<void>((resolve) => gateway.listen(socketPath, resolve));
  chmodSync(socketPath, 0o666);
  server = new ForkServer({ ...SERVER_OPTIONS, gatewaySocket: socketPath });
  await server.start();
});

after(async () => {
  await server.close();
  assert.equal(existsSync(server.jobsDir), false, "the jobs directory is removed on close");
  await new Promise<void>((resolve) => gateway.close(() => resolve()));
  rmSync(gatewayDir, { recursive: true, force: true });
  closeStore();
});

test("01_echo.py through the fork server answers what a fresh sandbox answers", async () => {
  const code = programSource("python/01_echo.py");
  const run = await forked(code, { inputs: ECHO_INPUTS });
  const state = stateOf(run);
  assert.equal(state["count"], 2);
  const messages = state["messages"] as { role: string; content: string }[];
  assert.equal(messages.at(-1)?.content, "ECHO: HELLO");
  assert.deepEqual(
    run.messages.filter((m) => m.type === "node_end").map((m) => (m as { node: string }).node),
    ["greet", "shout"],
  );
  await assertNothingLeft(lastSandbox);

  // Today's path, same program, same inputs: a fresh interpreter in its own bubblewrap sandbox.
  const launcher = new SandboxLauncher(config.sandbox);
  const fresh = await runJob((handlers) => launcher.start(launchSpec(), LIMITS, handlers), store, code, {
    inputs: ECHO_INPUTS,
  });
  // The result's thread_state names its thread and the time of its checkpoint, which differ between the two runs.
  const VARYING = new Set(["id", "checkpoint_id", "thread_id", "created_at"]);
  const withoutIds = (value: unknown): unknown =>
    JSON.parse(JSON.stringify(value, (key, v: unknown) => (VARYING.has(key) ? "<id>" : v)));
  assert.deepEqual(withoutIds(run.answer), withoutIds(fresh.answer));
  assert.deepEqual(
    run.messages.map((m) => m.type),
    fresh.messages.map((m) => m.type),
  );
});

test("a child holds no capability, has no_new_privs and the seccomp filter, and cannot rebuild its namespaces", async () => {
  const run = await forked(
    reporter(`
def report():
    status = {k: v.strip() for k, v in (l.split(":", 1) for l in open("/proc/self/status")) if k.startswith(("Cap", "NoNewPrivs", "Seccomp"))}
    libc = ctypes.CDLL(None, use_errno=True)
    unshare = libc.unshare(0x00020000)
    unshare_errno = ctypes.get_errno()
    mount = libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None)
    mount_errno = ctypes.get_errno()
    try:
        open("/proc/1/mem", "rb").close()
        init_mem = "opened"
    except OSError as err:
        init_mem = type(err).__name__
    import signal
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        os.kill(1, sig)  # its init ignores them all
    time.sleep(0.1)
    return {
        "status": status, "uid": os.getuid(), "unshare": [unshare, unshare_errno], "mount": [mount, mount_errno],
        "hostname": socket.gethostname(), "interfaces": [name for _, name in socket.if_nameindex()],
        "cwd": os.getcwd(), "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
        "root_writable": os.access("/", os.W_OK), "dev_writable": os.access("/dev", os.W_OK),
        "pid": os.getpid(), "cgroup": open("/proc/self/cgroup").read(), "init_mem": init_mem,
    }
`),
  );
  const report = reportOf(run);
  const status = report["status"] as Record<string, string>;
  for (const key of ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"])
    assert.equal(status[key], "0000000000000000", `${key} ${JSON.stringify(status)}`);
  assert.equal(status["NoNewPrivs"], "1");
  assert.equal(status["Seccomp"], "2");
  assert.equal(report["uid"], 65534);
  assert.deepEqual(report["unshare"], [-1, 1], "unshare: EPERM");
  assert.deepEqual(report["mount"], [-1, 1], "mount: EPERM");
  assert.equal(report["hostname"], "graphbox");
  assert.deepEqual(report["interfaces"], ["lo"]);
  assert.equal(report["cwd"], "/tmp/work", "the host working directory is never named inside");
  assert.equal(report["root_writable"], false);
  assert.equal(report["dev_writable"], false);
  // The program runs as pid 2 under an init of its own, as with bwrap (SIGXCPU reaches it).
  assert.equal(report["pid"], 2);
  assert.equal(report["init_mem"], "PermissionError");
  // Its own cgroup namespace, rooted at the job's cgroup.
  assert.match(report["cgroup"] as string, /^\d+:memory:\/$/m);
  await assertNothingLeft(lastSandbox);
});

test("the job's environment reaches the child, not the zygote, and the gateway is reached over loopback", async () => {
  gatewayRequests.length = 0;
  const run = await forked(
    reporter(`
def report():
    import urllib.request
    from langchain_openai import ChatOpenAI
    llm = ChatOpenAI(model="gpt-4o-mini")
    body = urllib.request.urlopen("http://127.0.0.1:${GATEWAY_PORT}/openai/v1/models", timeout=5).read().decode()
    return {"key": os.environ.get("OPENAI_API_KEY"), "llm_key": llm.openai_api_key.get_secret_value(), "llm_base": llm.openai_api_base, "gateway": body, "socket": os.environ.get("GRAPHBOX_GATEWAY_SOCKET")}
`),
  );
  const report = reportOf(run);
  assert.equal(report["key"], CREDENTIAL);
  assert.equal(report["llm_key"], CREDENTIAL);
  assert.equal(report["llm_base"], `http://127.0.0.1:${GATEWAY_PORT}/openai/v1`);
  assert.equal(report["gateway"], "gateway saw /openai/v1/models");
  assert.equal(report["socket"], "/run/graphbox/gateway.sock");
  assert.deepEqual(gatewayRequests, ["GET /openai/v1/models "]);
  const zygote = server.zygoteInfo();
  assert.ok(zygote);
  const zygoteEnv = readFileSync(`/proc/${zygote.hostPid}/environ`, "utf8");
  assert.doesNotMatch(zygoteEnv, new RegExp(CREDENTIAL));
  assert.doesNotMatch(zygoteEnv, /OPENAI|ANTHROPIC/);
  await assertNothingLeft(lastSandbox);
});

test("two children running at once see nothing of each other: files, processes, loopback", async () => {
  let leaker: ForkedSandbox | null = null;
  const holding = forked(LEAKER(true), {
    onStarted: (sandbox) => (leaker = sandbox as ForkedSandbox),
  });
  // Wait until the leaker has done everything and sits in its node.
  for (let i = 0; i < 500 && !(leaker as ForkedSandbox | null)?.logs().includes("LEAKER-READY"); i++)
    await new Promise((r) => setTimeout(r, 20));
  const held = leaker as ForkedSandbox | null;
  assert.ok(held !== null && held.logs().includes("LEAKER-READY"), held?.logs());
  const probe = await forked(PROBE);
  assertSeesNothing(reportOf(probe));
  held.kill();
  const run = await holding;
  assert.equal(run.exit.signal, "SIGKILL");
  await assertNothingLeft(held);
});

test("what one execution leaves behind (files, env, globals, threads, daemons, listeners) is gone for the next", async () => {
  const leaked = await forked(LEAKER(false));
  assert.deepEqual(reportOf(leaked), { ok: true });
  await assertNothingLeft(lastSandbox);
  const probe = await forked(PROBE);
  assertSeesNothing(reportOf(probe));
  await assertNothingLeft(lastSandbox);
});

test("a memory bomb is killed by its own cgroup while a sibling finishes", async () => {
  const bomb = forked(
    reporter(`
def report():
    chunks = []
    while True:
        chunks.append(bytearray(16 * 1024 * 1024))
`),
  );
  const echo = forked(programSource("python/01_echo.py"), { inputs: ECHO_INPUTS });
  const [bombRun, echoRun] = await Promise.all([bomb, echo]);
  assert.equal(stateOf(echoRun)["count"], 2);
  assert.equal(bombRun.answer, null);
  assert.equal(bombRun.exit.limit?.kind, "memory", JSON.stringify(bombRun.exit));
  assert.match(bombRun.exit.limit?.message ?? "", /memory limit of 256 MiB/);
  await assertNothingLeft(lastSandbox);
});

test("CPU seconds are limited per child, and reported as such (SIGXCPU)", async () => {
  const started = Date.now();
  const run = await forked(reporter("def report():\n    while True:\n        pass\n"));
  assert.equal(run.exit.signal, "SIGXCPU", JSON.stringify(run.exit));
  assert.equal(run.exit.limit?.kind, "cpu_time");
  assert.ok(Date.now() - started < 10_000);
  await assertNothingLeft(lastSandbox);
});

test("the process limit is the child's own cgroup's", async () => {
  const run = await forked(
    reporter(`
def report():
    threads = []
    for _ in range(200):
        t = threading.Thread(target=time.sleep, args=(5,), daemon=True)
        t.start()
        threads.append(t)
    return {"started": len(threads)}
`),
  );
  assert.equal(run.answer?.type, "error", JSON.stringify(run.answer));
  assert.match(JSON.stringify(run.answer), /can't start new thread/);
  // What the engine asks after a program error: was a sandbox limit behind it?
  assert.equal(run.limit?.kind, "processes");
  await assertNothingLeft(lastSandbox);
});

test("a child killed mid-run takes its whole tree with it", async () => {
  let sandbox: ForkedSandbox | null = null;
  const running = forked(
    reporter(`
def report():
    subprocess.Popen(["sleep", "300"], start_new_session=True)
    print("STARTED", flush=True)
    time.sleep(300)
`),
    { onStarted: (s) => (sandbox = s as ForkedSandbox) },
  );
  for (let i = 0; i < 500 && !(sandbox as ForkedSandbox | null)?.logs().includes("STARTED"); i++)
    await new Promise((r) => setTimeout(r, 20));
  const started = sandbox as ForkedSandbox | null;
  assert.ok(started !== null && started.logs().includes("STARTED"));
  started.kill();
  const run = await running;
  assert.equal(run.exit.signal, "SIGKILL");
  await assertNothingLeft(started);
});

test("the zygote is replaced after N forks and after it dies; jobs go on", async () => {
  const small = new ForkServer({ ...SERVER_OPTIONS, forksPerZygote: 2 });
  const zygoteCgroups: string[] = [];
  try {
    await small.start();
    const code = programSource("python/01_echo.py");
    const first = small.zygoteInfo()?.hostPid;
    zygoteCgroups.push(...(small.zygoteInfo()?.cgroupDirs ?? []));
    for (let i = 0; i < 3; i++) assert.equal(stateOf(await forked(code, { inputs: ECHO_INPUTS }, small))["count"], 2);
    // The third fork found the limit reached and started a replacement; it serves from now on, once
    // it has imported LangGraph: within the zygote's start-up allowance (seconds on a loaded host).
    const deadline = Date.now() + config.startupTimeoutMs;
    while (small.zygoteInfo()?.hostPid === first && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const second = small.zygoteInfo()?.hostPid;
    assert.notEqual(second, first);
    zygoteCgroups.push(...(small.zygoteInfo()?.cgroupDirs ?? []));
    for (let i = 0; i < 50 && existsSync(`/proc/${first}`); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(existsSync(`/proc/${first}`), false, "the replaced zygote is gone once idle");

    process.kill(second!, "SIGKILL");
    for (let i = 0; i < 50 && existsSync(`/proc/${second}`); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(stateOf(await forked(code, { inputs: ECHO_INPUTS }, small))["count"], 2);
    assert.notEqual(small.zygoteInfo()?.hostPid, second);
    zygoteCgroups.push(...(small.zygoteInfo()?.cgroupDirs ?? []));
  } finally {
    await small.close();
  }
  assert.equal(zygoteCgroups.length, 6, "three zygotes, two cgroups each (v1)");
  for (const dir of zygoteCgroups) assert.equal(existsSync(dir), false, `${dir} is still there`);
  assert.equal(existsSync(small.jobsDir), false);
});

test("a zygote that cannot start says why, and leaves nothing behind", async () => {
  const broken = new ForkServer({ ...SERVER_OPTIONS, pythonPath: "/nonexistent/bin/python", startupTimeoutMs: 10_000 });
  await assert.rejects(
    broken.start(),
    (err: Error) =>
      err.name === "SandboxUnavailableError" &&
      /zygote could not start/.test(err.message) &&
      /nonexistent/.test(err.message),
  );
  await broken.close();
  assert.equal(existsSync(broken.jobsDir), false);
});

test("zygote reports are checked field by field", () => {
  const ok = parseZygoteReport(
    Buffer.from(JSON.stringify({ v: 1, type: "reaped", job_id: "j", code: null, signal: 9 })),
  );
  assert.equal(ok.type, "reaped");
  for (const bad of [
    "not json",
    JSON.stringify({ v: 2, type: "forked", job_id: "j", pid_in_ns: 3 }),
    JSON.stringify({ v: 1, type: "forked", job_id: "j", pid_in_ns: -1 }),
    JSON.stringify({ v: 1, type: "reaped", job_id: "j", code: "0", signal: null }),
    JSON.stringify({ v: 1, type: "spawn_shell" }),
  ]) {
    assert.throws(() => parseZygoteReport(Buffer.from(bad)), ProtocolError, bad);
  }
});
