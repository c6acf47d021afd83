/**
 * The attack suite's JavaScript variants: hostile TypeScript programs against the real sandbox,
 * with the Python suite's guarantees (the attack fails, the answer is a clean contract response,
 * the engine then serves a normal request).
 */
import assert from "node:assert/strict";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { after, before, test } from "node:test";

import { PROJECT_ROOT } from "../src/config/index.ts";
import { nativeSeccompArch } from "../src/sandbox/seccomp.ts";
import { startEngine, type RunningEngine } from "./support/engine.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { TYPESCRIPT_OK, typescriptGraph } from "./support/programs.ts";
import { otherAbiProbe, REFUSED_CALLS, refusedCallsProbe, refusedNumbers } from "./support/seccomp-probe.ts";

type Json = Record<string, unknown>;
const ENGINE_KEY = `sk-engine-${crypto.randomUUID()}`;
const ARCH = nativeSeccompArch() ?? "x64";

let llm: LlmStandIn;
let engine: RunningEngine;
before(async () => {
  llm = await startLlmStandIn();
  engine = await startEngine(undefined, { openai: { baseUrl: llm.openaiBaseUrl, apiKey: ENGINE_KEY }, anthropic: { baseUrl: llm.anthropicBaseUrl, apiKey: ENGINE_KEY } });
});
after(async () => {
  await engine.close();
  await llm.close();
});

async function run(code: string, config: Json = {}): Promise<Json> {
  const { status, body } = await engine.post("/execute-langgraph", { code, language: "typescript", inputs: { value: 1 }, config });
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
  return typescriptGraph(`const r: Record<string, unknown> = {};\n${body}\nreturn { out: JSON.stringify(r) };`, imports);
}

function findings(body: Json): Json {
  assert.equal(body["status"], "success", JSON.stringify(body).slice(0, 2000));
  return JSON.parse(String((body["result"] as { state: { out: string } }).state.out)) as Json;
}

const FS = `import { readFileSync, readdirSync } from "node:fs";`;
const attempt = `const attempt = (fn: () => unknown) => { try { return ["DONE", String(fn()).slice(0, 100)]; } catch (e: any) { return [e?.code ?? String(e)]; } };`;

test("files: the engine's tree, /etc/shadow, the host's home, /proc/1/environ are out of reach", async () => {
  const r = findings(
    await run(
      probe(
        `${attempt}
r.engine = attempt(() => readFileSync(${JSON.stringify(`${PROJECT_ROOT}/package.json`)}, "utf8"));
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

test("environment: no key, only the execution's gateway credential", async () => {
  const r = findings(await run(probe(`r.env = JSON.stringify(process.env);`)));
  assert.ok(!String(r["env"]).includes(ENGINE_KEY));
  assert.match(String(r["env"]), /gbx-/);
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

test("a fork bomb through child_process ends as resource_limit (or timeout), and the engine carries on", async () => {
  const body = await run(
    typescriptGraph(`for (;;) { try { spawn("/bin/sh", ["-c", "sleep 30"], { stdio: "ignore" }); } catch {} await new Promise((r) => setImmediate(r)); }`, `import { spawn } from "node:child_process";`),
    { timeout_ms: 20_000 },
  );
  assert.equal(body["status"], "error");
  assert.ok(["resource_limit", "timeout", "program_error"].includes(String(body["error_type"])), JSON.stringify(body).slice(0, 1000));
  await expectHealthy();
});

test("a memory bomb ends as memory_limit", async () => {
  const body = await run(typescriptGraph(`const hoard: Buffer[] = [];\nfor (;;) hoard.push(Buffer.alloc(32 * 1024 * 1024, 1));`), { timeout_ms: 30_000 });
  assert.equal(body["status"], "error");
  assert.equal(body["error_type"], "memory_limit", JSON.stringify(body).slice(0, 1000));
  await expectHealthy();
});

test("a CPU loop ends at its deadline", async () => {
  const body = await run(typescriptGraph(`for (;;) {}`), { timeout_ms: 2000 });
  assert.equal(body["error_type"], "timeout");
  await expectHealthy();
});

test("a stdout flood is bounded", async () => {
  const body = await run(typescriptGraph(`for (let i = 0; i < 200000; i++) console.log("flood", i);\nreturn { out: "done" };`));
  assert.equal(body["status"], "success");
  const logs = String((body["result"] as { metadata: { logs: string } }).metadata.logs);
  assert.ok(logs.length < 70_000, `logs are ${logs.length} characters`);
  await expectHealthy();
});

test("process.kill(process.ppid) and kill(-1) reach nothing outside the sandbox", async () => {
  const body = await run(typescriptGraph(`try { process.kill(process.ppid, "SIGKILL"); } catch {}\ntry { process.kill(-1, "SIGKILL"); } catch {}\nreturn { out: "alive" };`));
  assert.ok(["success", "error"].includes(String(body["status"])));
  await expectHealthy();
});

test("worker_threads abuse stays inside the execution's limits", async () => {
  const body = await run(
    typescriptGraph(`const workers: Worker[] = [];\nfor (let i = 0; i < 200; i++) workers.push(new Worker("while (true) {}", { eval: true }));\nawait new Promise((r) => setTimeout(r, 60_000));\nreturn { out: "many" };`, `import { Worker } from "node:worker_threads";`),
    { timeout_ms: 10_000 },
  );
  assert.equal(body["status"], "error");
  assert.ok(["resource_limit", "timeout", "memory_limit", "program_error"].includes(String(body["error_type"])), JSON.stringify(body).slice(0, 1000));
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
  const failed = await run(typescriptGraph(`new StateGraph(State).addEdge(START, "missing" as any).compile();\nreturn { out: "unreachable" };`));
  assert.equal(failed["status"], "error", JSON.stringify(failed).slice(0, 2000));
  const gatewaySocket = engine.app.engine.gateway.socketPath ?? "/nonexistent";
  // One line of mountinfo names a host path, and only the gateway socket's (a socket can be shown through a bind only: src/sandbox/mounts.ts).
  const mountinfo = String(r["mountinfo"]).split("\n");
  const socketLines = mountinfo.filter((line) => line.split(" ")[4] === "/run/graphbox/gateway.sock");
  assert.equal(socketLines.length, 1, String(r["mountinfo"]));
  assert.equal(socketLines[0]!.split(" ")[3], gatewaySocket);
  const seen = JSON.stringify({ ...r, mountinfo: mountinfo.filter((line) => !socketLines.includes(line)), failed });
  for (const hostPath of [PROJECT_ROOT, `${tmpdir()}/graphbox-`, dirname(gatewaySocket)]) assert.ok(!seen.includes(hostPath), `${hostPath} is visible inside: ${seen.slice(Math.max(0, seen.indexOf(hostPath) - 300), seen.indexOf(hostPath) + 300)}`);
  // LangGraph's own frames, from the snapshot's bundle, name the runtime's place inside.
  assert.match(String(r["libraryStack"]), /\(\/opt\/graphbox\/js\/\S+:\d+:\d+\)/);
  assert.equal(r["cwd"], "/tmp/work");
  assert.match(String(r["mountinfo"]), / \/opt\/graphbox\/js ro,[^ ]* - overlay graphbox ro,lowerdir=\/proc\/self\/fd\/9:empty/);
  // Started from the startup snapshot, built for the runtime's place inside.
  assert.ok((r["execArgv"] as string[]).some((arg) => arg.startsWith("/opt/graphbox/js/.snapshot/")), JSON.stringify(r["execArgv"]));
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
  for (const name of Object.keys(numbers)) assert.equal(r[name], "EPERM", `${name}(${REFUSED_CALLS[name]!.join(", ")})`);
  assert.equal(r["clone3"], "ENOSYS");
  assert.equal(r["getpid"], "OK");
  if (ARCH === "x64") assert.deepEqual(r["abi"], { "i386 getpid": "SIGSYS", "x32 getpid": "SIGSYS", "native getpid": "exit 0" });
  await expectHealthy();
});
