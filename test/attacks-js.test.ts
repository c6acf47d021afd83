/**
 * The attack suite's JavaScript variants: hostile TypeScript programs against the real sandbox,
 * with the Python suite's guarantees (the attack fails, the answer is a clean contract response,
 * the engine then serves a normal request).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { basename, dirname } from "node:path";
import { after, before, test } from "node:test";

import { loadConfig } from "../src/config/index.ts";
import { nativeSeccompArch } from "../src/sandbox/seccomp.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { processesWith } from "./support/processes.ts";
import { TYPESCRIPT_OK, typescriptGraph } from "./support/programs.ts";
import { followSandbox, leftBehind } from "./support/sandbox-trail.ts";
import { otherAbiProbe, REFUSED_CALLS, refusedCallsProbe, refusedNumbers } from "./support/seccomp-probe.ts";
import { readSse } from "./support/sse.ts";

type Json = Record<string, unknown>;
const ENGINE_KEY = `sk-engine-${crypto.randomUUID()}`;
const ARCH = nativeSeccompArch() ?? "x64";
/** A variable of the engine's own environment: nothing of it may reach a sandbox. */
const HOST_CANARY = {
  name: `GRAPHBOX_TEST_CANARY_${crypto.randomUUID().slice(0, 8)}`,
  value: `canary-${crypto.randomUUID()}`,
};
process.env[HOST_CANARY.name] = HOST_CANARY.value;

let llm: LlmStandIn;
let engine: RunningEngine;
before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(undefined, {
    openai: { baseUrl: llm.openaiBaseUrl, apiKey: ENGINE_KEY },
    anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: ENGINE_KEY },
  });
});
after(async () => {
  await engine.close();
  await llm.close();
});

async function run(code: string, config: Json = {}, on: RunningEngine = engine): Promise<Json> {
  const { status, body } = await on.post("/execute-langgraph", {
    code,
    language: "typescript",
    inputs: { value: 1 },
    config,
  });
  assert.equal(status, 200, JSON.stringify(body).slice(0, 2000));
  assert.ok(["success", "error", "interrupted"].includes(String(body["status"])));
  return body;
}

async function expectHealthy(): Promise<void> {
  const body = await run(TYPESCRIPT_OK);
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
}

/** A node that fills `r` and returns it as JSON in state.out. */
function probe(body: string, imports = ""): string {
  return typescriptGraph(
    `const r: Record<string, unknown> = {};\n${body}\nreturn { out: JSON.stringify(r) };`,
    imports,
  );
}

function findings(body: Json): Json {
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
  return JSON.parse(String((body["result"] as { state: { out: string } }).state.out)) as Json;
}

/**
 * Runs a node body that first starts a marked child (`sleep 30; : <marker>`), so the test finds
 * the sandbox's processes and cgroup from outside; asserts that none of them outlives the answer.
 */
async function runTraced(
  name: string,
  nodeBody: string,
  imports: string,
  config: Json,
  on: RunningEngine = engine,
): Promise<Json> {
  const marker = `graphbox-${name}-${crypto.randomUUID()}`;
  const trail = followSandbox(marker);
  const body = await run(
    typescriptGraph(
      `spawn("/bin/sh", ["-c", "sleep 30; : ${marker}"], { stdio: "ignore" });\n${nodeBody}`,
      `import { spawn } from "node:child_process";\n${imports}`,
    ),
    config,
    on,
  );
  const seen = trail.stop();
  assert.ok(
    seen.pids.length > 0 && seen.cgroups.length > 0,
    `the sandbox's processes were not seen: ${JSON.stringify(seen)}`,
  );
  assert.deepEqual(await leftBehind(marker, seen), [], "left behind by the run");
  return body;
}

const FS = `import { readFileSync, readdirSync } from "node:fs";`;
const attempt = `const attempt = (fn: () => unknown) => { try { return ["DONE", String(fn()).slice(0, 100)]; } catch (e: any) { return [e?.code ?? String(e)]; } };`;

test("files: the engine's tree, /etc/shadow, the host's home, /proc/1/environ are out of reach", async () => {
  const r = findings(
    await run(
      probe(
        `${attempt}
r.engine = attempt(() => readFileSync(${JSON.stringify(`${engine.projectRoot}/package.json`)}, "utf8"));
r.shadow = attempt(() => readFileSync("/etc/shadow", "utf8"));
r.home = attempt(() => readdirSync("/root"));
r.init = attempt(() => readFileSync("/proc/1/environ", "utf8"));`,
        FS,
      ),
    ),
  );
  assert.equal((r["engine"] as string[])[0], "ENOENT");
  assert.equal((r["shadow"] as string[])[0], "ENOENT");
  assert.equal((r["home"] as string[])[0], "ENOENT");
  // pid 1 is the sandbox's own init: whatever its environment, it holds nothing of the engine's.
  const init = JSON.stringify(r["init"]);
  assert.ok(!init.includes(ENGINE_KEY) && !init.includes("/root"), init);
  await expectHealthy();
});

test("environment: no provider key and nothing of the engine's environment in the environment, /proc/*/environ, /proc/*/cmdline or any visible file", async () => {
  // The secrets are sent in halves and joined inside, so the program's own source holds no copy to find.
  const halves = (secret: string) => JSON.stringify([secret.slice(0, 8), secret.slice(8)]);
  const r = findings(
    await run(
      probe(
        `r.env = { ...process.env };
const secrets = [${halves(ENGINE_KEY)}.join(""), ${halves(HOST_CANARY.value)}.join("")];
const found = (text: string) => secrets.filter((s) => text.includes(s));
const procs: Record<string, string[]> = {};
for (const pid of readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
  for (const file of ["environ", "cmdline"]) {
    try { procs[\`/proc/\${pid}/\${file}\`] = found(readFileSync(\`/proc/\${pid}/\${file}\`, "latin1")); } catch (e: any) { procs[\`/proc/\${pid}/\${file}\`] = [String(e?.code)]; }
  }
}
r.procs = procs;
const hits: string[] = [];
let read = 0;
const walk = (dir: string): void => {
  let names: string[];
  try { names = readdirSync(dir); } catch { return; }
  for (const name of names) {
    const path = dir === "/" ? "/" + name : dir + "/" + name;
    let info;
    try { info = lstatSync(path); } catch { continue; }
    if (info.isDirectory() && name !== "node_modules") walk(path);
    else if (info.isFile()) {
      try { if (found(readFileSync(path).subarray(0, 4_000_000).toString("latin1")).length > 0) hits.push(path); read += 1; } catch {}
    }
  }
};
for (const top of ["/tmp", "/etc", "/run", "/dev/shm", process.cwd(), ${JSON.stringify(`${engine.projectRoot}/src`)}]) walk(top);
r.hits = hits;
r.read = read;`,
        `import { lstatSync, readdirSync, readFileSync } from "node:fs";`,
      ),
    ),
  );
  const env = r["env"] as Record<string, string>;
  const dump = JSON.stringify(env);
  assert.ok(!dump.includes(ENGINE_KEY), "the provider key is in the environment");
  assert.ok(
    !dump.includes(HOST_CANARY.value) && !(HOST_CANARY.name in env),
    "the engine's environment reached the sandbox",
  );
  assert.ok(
    !Object.keys(env).some((name) => /^(GRAPHBOX_(?!GATEWAY)|npm_|SUDO|SSH|HOSTNAME$|USER$)/.test(name)),
    `host variables leaked: ${Object.keys(env).join(" ")}`,
  );
  // The gateway credential of this execution stands in for the provider keys.
  assert.match(env["OPENAI_API_KEY"] ?? "", /^gbx-/);
  assert.equal(env["ANTHROPIC_API_KEY"], env["OPENAI_API_KEY"]);
  const procs = r["procs"] as Record<string, string[]>;
  assert.ok(Object.keys(procs).length >= 2, "the program sees its own /proc entries");
  for (const [path, seen] of Object.entries(procs))
    assert.ok(!seen.includes(ENGINE_KEY) && !seen.includes(HOST_CANARY.value), `${path} holds ${seen.join(", ")}`);
  assert.ok(Number(r["read"]) > 0, "the walk read files");
  assert.deepEqual(r["hits"], [], "files holding a secret");
  await expectHealthy();
});

test("network: no outside address, no engine port, no DNS", async () => {
  const port = new URL(engine.url).port;
  const r = findings(
    await run(
      probe(
        `const tryConnect = (host: string, p: number) => new Promise((resolve) => { const s = connect({ host, port: p }); s.setTimeout(2000); s.on("connect", () => { s.destroy(); resolve("CONNECTED"); }); s.on("error", (e: any) => resolve(e.code)); s.on("timeout", () => { s.destroy(); resolve("TIMEOUT"); }); });
r.outside = await tryConnect("1.1.1.1", 443);
r.engine = await tryConnect("127.0.0.1", ${port});
r.dns = await lookup("example.com").then(() => "RESOLVED", (e: any) => e.code);`,
        `import { connect } from "node:net";\nimport { lookup } from "node:dns/promises";`,
      ),
    ),
  );
  assert.notEqual(r["outside"], "CONNECTED");
  assert.notEqual(r["engine"], "CONNECTED");
  assert.notEqual(r["dns"], "RESOLVED");
  await expectHealthy();
});

test("a fork bomb through child_process ends as resource_limit at the process limit, and nothing of it outlives the run", async () => {
  const body = await runTraced(
    "forkbomb",
    `for (;;) { try { spawn("/bin/sh", ["-c", "sleep 30"], { stdio: "ignore" }); } catch {} await new Promise((r) => setImmediate(r)); }`,
    "",
    { timeout_ms: 20_000 },
  );
  assert.equal(body["status"], "error");
  assert.equal(body["error_type"], "resource_limit", JSON.stringify(body).slice(0, 1000));
  assert.match(String(body["error"]), /more than 64 processes and threads at once/);
  await expectHealthy();
});

test("a memory bomb ends as memory_limit, and nothing of it outlives the run", async () => {
  const body = await runTraced(
    "memory",
    `const hoard: Buffer[] = [];\nfor (;;) hoard.push(Buffer.alloc(32 * 1024 * 1024, 1));`,
    "",
    { timeout_ms: 30_000 },
  );
  assert.equal(body["status"], "error");
  assert.equal(body["error_type"], "memory_limit", JSON.stringify(body).slice(0, 1000));
  assert.match(String(body["error"]), /512 MiB/);
  await expectHealthy();
});

test("a CPU loop ends at its deadline, and nothing of it outlives the run", async () => {
  const body = await runTraced("cpu", `for (;;) {}`, "", { timeout_ms: 2000 });
  assert.equal(body["error_type"], "timeout");
  assert.match(String(body["error"]), /timeout of 2000 ms/);
  await expectHealthy();
});

test("a stdout flood is cut at GRAPHBOX_MAX_LOG_BYTES, with a note of what was dropped", async () => {
  // 4 MiB, each write waited for, so all of it reaches the engine before the result does.
  const body = await run(
    typescriptGraph(`const line = "x".repeat(1023) + "\\n";
for (let i = 0; i < 4096; i++) if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once("drain", r));
return { out: "done" };`),
  );
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 1000));
  const logs = String((body["result"] as { metadata: { logs: string } }).metadata.logs);
  assert.ok(logs.length < 70_000, `logs are ${logs.length} characters`);
  const note = /\[graphbox: (\d+) more bytes of output dropped\]$/.exec(logs);
  assert.ok(note, `no note of dropped output at the end: ${JSON.stringify(logs.slice(-200))}`);
  assert.ok(Number(note[1]) >= 4 * 1024 * 1024 - 70_000, `only ${note[1]} bytes dropped`);
  await expectHealthy();
});

test("process.kill(process.ppid), kill(1) and kill(-1) reach only the sandbox: the host and another execution carry on", async () => {
  const marker = `graphbox-sentinel-${crypto.randomUUID()}`;
  const sentinel = spawn("/bin/sh", ["-c", `sleep 120; : ${marker}`], { stdio: "ignore" });
  try {
    // Another execution, running (its node started) while the attack happens.
    let bystanderRunning!: () => void;
    const running = new Promise<void>((resolve) => (bystanderRunning = resolve));
    const bystander = readSse(`${engine.url}/execute-langgraph/stream`, {
      body: {
        code: typescriptGraph(`await new Promise((r) => setTimeout(r, 3000));\nreturn { out: "alive" };`),
        language: "typescript",
        inputs: { value: 1 },
      },
      onEvent: (event) => {
        if (event.event === "node_start") bystanderRunning();
      },
    });
    void bystander.then(bystanderRunning, bystanderRunning);
    await running;
    const r = findings(
      await run(
        probe(
          `const attempt = (fn: () => unknown) => { try { return ["DONE", String(fn())]; } catch (e: any) { return [String(e?.code ?? e)]; } };
r.ppid = process.ppid;
r.killParent = attempt(() => process.kill(process.ppid, "SIGKILL"));
r.killInit = attempt(() => process.kill(1, "SIGKILL"));
r.killAll = attempt(() => process.kill(-1, "SIGKILL"));
r.visible = readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).map(Number);`,
          FS,
        ),
      ),
    );
    // Inside its own PID namespace the program sees only its sandbox's few processes.
    assert.ok(
      (r["visible"] as number[]).every((pid) => pid < 100),
      JSON.stringify(r["visible"]),
    );
    const answer = await bystander;
    const last = answer.events.at(-1)!;
    assert.equal(last.event, "complete", JSON.stringify(last.data).slice(0, 1000));
    assert.equal((last.data["result"] as { state: { out: string } }).state.out, "alive");
    assert.equal(processesWith(marker).length, 1, "the host's sentinel process was killed");
    assert.equal(sentinel.exitCode, null);
    assert.equal(sentinel.signalCode, null);
  } finally {
    sentinel.kill("SIGKILL");
  }
  await expectHealthy();
});

// Each worker is a V8 isolate of tens of MB (restored from the runtime's snapshot), so some fifty of
// them reach the default 512 MiB about when they reach the process limit, and which trips first is a
// race: this test runs on an engine whose sandboxes have memory to spare, so the process limit is
// what stops the flood.
test("a worker_threads flood ends as resource_limit at the process limit, and nothing of it outlives the run", async () => {
  const roomy = await startEngine(undefined, {
    sandbox: { ...loadConfig({}).sandbox, memoryBytes: 4096 * 1024 * 1024 },
  });
  let body: Json;
  try {
    body = await runTraced(
      "workers",
      `const workers: Worker[] = [];\nfor (let i = 0; i < 200; i++) workers.push(new Worker("while (true) {}", { eval: true }));\nawait new Promise((r) => setTimeout(r, 60_000));\nreturn { out: "many" };`,
      `import { Worker } from "node:worker_threads";`,
      { timeout_ms: 10_000 },
      roomy,
    );
  } finally {
    await roomy.close();
  }
  assert.equal(body["status"], "error");
  assert.equal(body["error_type"], "resource_limit", JSON.stringify(body).slice(0, 1000));
  assert.match(String(body["error"]), /more than 64 processes and threads at once/);
  await expectHealthy();
});

test("no host path inside: mountinfo, import.meta, stack traces, an error, cwd, environment, command lines", async () => {
  const r = findings(
    await run(
      probe(
        `r.mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
r.cwd = process.cwd();
r.env = { ...process.env };
r.argv = process.argv;
r.execArgv = process.execArgv;
r.meta = import.meta.url;
r.stack = new Error("here").stack;
try {
  new StateGraph(State).addEdge(START, "missing" as any).compile();
} catch (e: any) {
  r.libraryStack = e.stack;
}
r.cmdlines = readdirSync("/proc").filter((p) => /^\\d+$/.test(p)).map((p) => { try { return readFileSync(\`/proc/\${p}/cmdline\`, "utf8"); } catch { return ""; } });`,
        FS,
      ),
    ),
  );
  const failed = await run(
    typescriptGraph(
      `new StateGraph(State).addEdge(START, "missing" as any).compile();\nreturn { out: "unreachable" };`,
    ),
  );
  assert.equal(failed["status"], "error", JSON.stringify(failed).slice(0, 2000));
  const gatewaySocket = `${await engine.gatewaySocketDir()}/gateway.sock`;
  // One line of mountinfo names a host path, and only the gateway socket's (a socket can be shown through a bind only: src/sandbox/mounts.ts).
  const mountinfo = String(r["mountinfo"]).split("\n");
  const socketLines = mountinfo.filter((line) => line.split(" ")[4] === "/run/graphbox/gateway.sock");
  assert.equal(socketLines.length, 1, String(r["mountinfo"]));
  // Its root within its file system: the whole path, or its tail when /tmp is a mount of its own (a container's tmpfs).
  assert.ok(gatewaySocket.endsWith(socketLines[0]!.split(" ")[3]!), socketLines[0]);
  assert.ok(
    socketLines[0]!.split(" ")[3]!.endsWith(`/${basename(dirname(gatewaySocket))}/gateway.sock`),
    socketLines[0],
  );
  // An engine that is not root (its image) binds the runtime's folders as they are: those lines name them (mounts.ts).
  const bound = engine.root ? [] : mountinfo.filter((line) => line.split(" ")[4]?.startsWith("/opt/graphbox/"));
  for (const line of bound) assert.ok(line.split(" ")[3]!.startsWith(`${engine.projectRoot}/`), line);
  const hidden = mountinfo.filter((line) => !socketLines.includes(line) && !bound.includes(line));
  const seen = JSON.stringify({ ...r, mountinfo: hidden, failed });
  for (const hostPath of [engine.projectRoot, `${tmpdir()}/graphbox-`, dirname(gatewaySocket)])
    assert.ok(
      !seen.includes(hostPath),
      `${hostPath} is visible inside: ${seen.slice(Math.max(0, seen.indexOf(hostPath) - 300), seen.indexOf(hostPath) + 300)}`,
    );
  // LangGraph's own frames, from the snapshot's bundle, name the runtime's place inside.
  assert.match(String(r["libraryStack"]), /\(\/opt\/graphbox\/js\/\S+:\d+:\d+\)/);
  assert.equal(r["cwd"], "/tmp/work");
  // Of the runtime's folder only the harness, its packages and the snapshot are shown (not launch.ts, snapshot/, the manifests), each through an overlay.
  const runtimeMounts = mountinfo.filter((line) => line.split(" ")[4]?.startsWith("/opt/graphbox/js"));
  assert.deepEqual(
    runtimeMounts.map((line) => line.split(" ")[4]),
    ["/opt/graphbox/js/harness", "/opt/graphbox/js/node_modules", "/opt/graphbox/js/.snapshot"],
  );
  if (engine.root)
    for (const line of runtimeMounts)
      assert.match(line, / ro,[^ ]* - overlay graphbox ro,lowerdir=\/proc\/self\/fd\/9:empty/);
  // Started from the startup snapshot, built for the runtime's place inside.
  assert.ok(
    (r["execArgv"] as string[]).some((arg) => arg.startsWith("/opt/graphbox/js/.snapshot/")),
    JSON.stringify(r["execArgv"]),
  );
  await expectHealthy();
});

test("every call the allowlist refuses fails with EPERM here too: a Python probe the program starts inherits the sandbox's filter", async () => {
  const numbers = refusedNumbers(ARCH);
  const r = findings(
    await run(
      probe(
        `Object.assign(r, JSON.parse(execFileSync("/usr/bin/python3", ["-I", "-c", ${JSON.stringify(refusedCallsProbe(ARCH))}], { encoding: "utf8" })));
r.abi = JSON.parse(execFileSync("/usr/bin/python3", ["-I", "-c", ${JSON.stringify(otherAbiProbe(ARCH))}], { encoding: "utf8" }));`,
        `import { execFileSync } from "node:child_process";`,
      ),
    ),
  );
  for (const name of Object.keys(numbers))
    assert.equal(r[name], "EPERM", `${name}(${REFUSED_CALLS[name]!.join(", ")})`);
  assert.equal(r["clone3"], "ENOSYS");
  assert.equal(r["getpid"], "OK");
  if (ARCH === "x64")
    assert.deepEqual(r["abi"], { "i386 getpid": "SIGSYS", "x32 getpid": "SIGSYS", "native getpid": "exit 0" });
  await expectHealthy();
});
