/**
 * Warm start keeps isolation: Python executions fork from a warm parent, JavaScript ones take a
 * pre-started sandbox; either way an execution sees nothing an earlier one left behind (module
 * globals, environment, files in tmp, threads, child processes), whatever the key or runtime.
 */
import assert from "node:assert/strict";
import { statSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { JS_RUNTIME_DIR } from "../src/runtimes/js/launch.ts";
import { PYTHON_HARNESS_DIR } from "../src/runtimes/python/launch.ts";
import { waitFor } from "./support/process.ts";

import { startEngine, type RunningEngine } from "./support/engine.ts";
import { pythonGraph, typescriptGraph } from "./support/programs.ts";

const ALICE = `alice-key-${crypto.randomUUID()}`;
const BOB = `bob-key-${crypto.randomUUID()}`;
let engine: RunningEngine;
before(async () => (engine = await startEngine(undefined, { apiKeys: { alice: ALICE, bob: BOB } })));
after(async () => engine.close());

const PY_LEAVE = pythonGraph(`import builtins, os, subprocess, sys, threading, time
builtins.GBX_MARK = "left"
sys.modules["json"].GBX_MARK = "left"
os.environ["GBX_MARK"] = "left"
open("/tmp/gbx_mark", "w").write("left")
threading.Thread(target=time.sleep, args=(1000,), daemon=True, name="gbx-mark").start()
subprocess.Popen(["sleep", "1001"])
return {"out": "left"}`);

const PY_LOOK = pythonGraph(`import builtins, json, os, threading
seen = []
if hasattr(builtins, "GBX_MARK"): seen.append("builtins")
if hasattr(json, "GBX_MARK"): seen.append("module")
if "GBX_MARK" in os.environ: seen.append("environ")
if os.path.exists("/tmp/gbx_mark"): seen.append("tmp file")
if any(t.name == "gbx-mark" for t in threading.enumerate()): seen.append("thread")
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            if b"1001" in open(f"/proc/{pid}/cmdline", "rb").read(): seen.append("process")
        except OSError:
            pass
return {"out": ",".join(seen)}`);

const TS_LEAVE = typescriptGraph(
  `(globalThis as any).GBX_MARK = "left";
process.env.GBX_MARK = "left";
writeFileSync("/tmp/gbx_mark", "left");
setInterval(() => {}, 1000);
spawn("sleep", ["1001"], { detached: true, stdio: "ignore" }).unref();
return { out: "left" };`,
  `import { writeFileSync } from "node:fs";\nimport { spawn } from "node:child_process";`,
);

const TS_LOOK = typescriptGraph(
  `const seen: string[] = [];
if ((globalThis as any).GBX_MARK) seen.push("global");
if (process.env.GBX_MARK) seen.push("environ");
if (existsSync("/tmp/gbx_mark")) seen.push("tmp file");
for (const pid of readdirSync("/proc").filter((p) => /^\\d+$/.test(p))) {
  try {
    if (readFileSync(\`/proc/\${pid}/cmdline\`).includes("1001")) seen.push("process");
  } catch {}
}
return { out: seen.join(",") };`,
  `import { existsSync, readdirSync, readFileSync } from "node:fs";`,
);

async function run(code: string, language: string, key: string): Promise<string> {
  const { body } = await engine.post(
    "/execute-langgraph",
    { code, language, inputs: {} },
    { authorization: `Bearer ${key}` },
  );
  assert.equal(body["status"], "success", JSON.stringify(body));
  return String((body["result"] as { state: { out: string } }).state.out);
}

test("the engine reports its warm start in /ready and /metrics", async () => {
  const ready = (await (
    await fetch(`${engine.url}/ready`, { headers: { authorization: `Bearer ${ALICE}` } })
  ).json()) as { warm_start: { python_fork_server: { state: string }; pools: Record<string, unknown> } };
  assert.equal(ready.warm_start.python_fork_server.state, "warm");
  assert.deepEqual(Object.keys(ready.warm_start.pools).sort(), ["js", "python"]);
  await run(TS_LOOK, "typescript", ALICE);
  await run(PY_LOOK, "python", ALICE);
  const metrics = await (
    await fetch(`${engine.url}/metrics`, { headers: { authorization: `Bearer ${ALICE}` } })
  ).text();
  for (const runtime of ["js", "python"]) {
    assert.match(metrics, new RegExp(`graphbox_warm_sandboxes\\{runtime="${runtime}"\\} \\d+`));
    const hits = new RegExp(`graphbox_warm_takes\\{runtime="${runtime}",result="hit"\\} (\\d+)`).exec(metrics)?.[1];
    const misses = new RegExp(`graphbox_warm_takes\\{runtime="${runtime}",result="miss"\\} (\\d+)`).exec(metrics)?.[1];
    assert.equal(
      Number(hits) + Number(misses),
      1,
      metrics
        .split("\n")
        .filter((l) => l.includes("warm"))
        .join("\n"),
    );
  }
});

for (const [leaver, leaveLanguage, leaveCode] of [
  ["python", "python", PY_LEAVE],
  ["typescript", "typescript", TS_LEAVE],
] as const) {
  test(`what a ${leaver} execution leaves behind, the next ones never see (same and other key, both runtimes)`, async () => {
    assert.equal(await run(leaveCode, leaveLanguage, ALICE), "left");
    for (const key of [ALICE, BOB]) {
      assert.equal(
        await run(PY_LOOK, "python", key),
        "",
        `python saw leftovers (key ${key === ALICE ? "alice" : "bob"})`,
      );
      assert.equal(
        await run(TS_LOOK, "typescript", key),
        "",
        `typescript saw leftovers (key ${key === ALICE ? "alice" : "bob"})`,
      );
    }
  });
}

test("a change to a runtime's files replaces its warm sandboxes and the zygote", async () => {
  type Ready = {
    warm_start: {
      python_fork_server: { hostPid: number };
      runtime_file_changes: number;
      pools: Record<string, { waiting: number }>;
    };
  };
  const ready = async (): Promise<Ready> =>
    (await (await fetch(`${engine.url}/ready`, { headers: { authorization: `Bearer ${ALICE}` } })).json()) as Ready;
  const before = await ready();
  // An edit to each harness, as a deploy would make: its mtime moves on (its content is left alone).
  const later = new Date(Date.now() + 5000);
  for (const file of [
    join(PYTHON_HARNESS_DIR, "graphbox_harness", "__init__.py"),
    join(JS_RUNTIME_DIR, "harness", "main.mjs"),
  ]) {
    const { atime } = statSync(file);
    utimesSync(file, atime, later);
  }
  const after = await waitFor(async () => {
    const now = await ready();
    return now.warm_start.runtime_file_changes >= before.warm_start.runtime_file_changes + 2 &&
      now.warm_start.python_fork_server.hostPid !== before.warm_start.python_fork_server.hostPid
      ? now
      : null;
  }, 30_000);
  assert.notEqual(after.warm_start.python_fork_server.hostPid, before.warm_start.python_fork_server.hostPid);
  // Both runtimes still serve, from sandboxes started after the change.
  assert.equal(await run(PY_LOOK, "python", ALICE), "");
  assert.equal(await run(TS_LOOK, "typescript", ALICE), "");
});

test("pools grow on misses, but not past the memory budget of waiting sandboxes", async () => {
  type Pools = { warm_start: { pools: Record<string, { waiting: number; misses: number; memory_mb: number }> } };
  for (const [budgetMb, grows] of [
    [1024, true],
    [0, false],
  ] as const) {
    const small = await startEngine(undefined, {
      warmPoolMin: 1,
      warmPoolMax: 4,
      warmPoolMemoryMb: budgetMb,
      apiKeys: { alice: ALICE },
    });
    try {
      const pools = async (): Promise<Pools["warm_start"]["pools"]> =>
        ((await (await fetch(`${small.url}/ready`, { headers: { authorization: `Bearer ${ALICE}` } })).json()) as Pools)
          .warm_start.pools;
      await waitFor(async () => ((await pools())["python"]?.waiting === 1 ? true : null), 30_000);
      // Four at once: the one waiting sandbox is taken, the other three miss.
      const answers = await Promise.all(
        Array.from({ length: 4 }, () =>
          small.post(
            "/execute-langgraph",
            { code: PY_LOOK, language: "python", inputs: {} },
            { authorization: `Bearer ${ALICE}` },
          ),
        ),
      );
      for (const { body } of answers) assert.equal(body["status"], "success", JSON.stringify(body));
      const python = await waitFor(async () => {
        const p = (await pools())["python"]!;
        return p.misses >= 3 && p.waiting >= (grows ? 2 : 1) ? p : null;
      }, 30_000);
      assert.ok(python.memory_mb > 0, JSON.stringify(python));
      if (grows) assert.ok(python.waiting > 1, JSON.stringify(python));
      else {
        // No room for more than the minimum: the pool keeps its one and no more.
        await new Promise((resolve) => setTimeout(resolve, 1000));
        assert.equal((await pools())["python"]!.waiting, 1, JSON.stringify(await pools()));
      }
    } finally {
      await small.close();
    }
  }
});
