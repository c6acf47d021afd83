/**
 * The engine over real HTTP, per runtime, against its floor measured in the same run:
 *   1. round trip of the corpus' trivial echo graph, sequential (p50/p99), vs running the same
 *      graph in-process with no isolation (the floor: one warm interpreter invoking it in a loop);
 *   2. throughput at saturation (runs/s), the engine's default admission;
 *   3. 200 concurrent LLM-bound executions against an LLM stand-in that answers after 1 s:
 *      success rate, p99 latency, peak memory of the engine process (RSS) and of its sandboxes (what
 *      their cgroups are charged: each page counted once, where summing RSS would count the
 *      zygote's shared pages once per child). Sampled from small files only: reading smaps_rollup
 *      of hundreds of processes every few hundred ms would block this process, which also hosts
 *      the LLM stand-in, and starve the runs it measures.
 *
 *   node --import tsx bench/http.ts [--runs 100] [--seconds 20] [--llm 200] [--runtimes python,typescript]
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";

import { loadConfig } from "../src/config/index.ts";
import { JS_RUNTIME_DIR } from "../src/runtimes/js/launch.ts";
import { programSource } from "../test/support/corpus.ts";
import { startLlmStandIn } from "../test/support/llm-standin.ts";
import { randomPort, startEngineProcess } from "../test/support/process.ts";

const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "100" },
    seconds: { type: "string", default: "20" },
    llm: { type: "string", default: "200" },
    runtimes: { type: "string", default: "python,typescript" },
  },
});
const RUNS = Number(args.runs);
const SECONDS = Number(args.seconds);
const LLM_CONCURRENT = Number(args.llm);

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const hello = { messages: [{ role: "user", content: "Hello" }] };
const ALL_RUNTIMES = [
  {
    name: "python",
    language: "python",
    echo: programSource("python/01_echo.py"),
    chat: programSource("python/02_chat.py"),
  },
  {
    name: "typescript",
    language: "typescript",
    echo: programSource("typescript/01_echo.ts"),
    chat: programSource("typescript/02_chat.ts"),
  },
] as const;
const RUNTIMES = ALL_RUNTIMES.filter((r) => args.runtimes.split(",").includes(r.name));

/** The floor: the same graph invoked in one warm, unsandboxed interpreter; ms per invoke (p50, p99). */
function floor(runtime: (typeof ALL_RUNTIMES)[number]): { p50: number; p99: number } {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-floor-"));
  try {
    if (runtime.name === "python") {
      writeFileSync(join(dir, "prog.py"), runtime.echo);
      const script = `import sys, time, json\nsys.path.insert(0, ${JSON.stringify(dir)})\nimport prog\nts=[]\nfor i in range(${RUNS + 20}):\n    t=time.perf_counter(); prog.app.invoke({"messages":[{"role":"user","content":"Hello"}]}); ts.append((time.perf_counter()-t)*1000)\nts=sorted(ts[20:])\nprint(json.dumps([ts[len(ts)//2], ts[min(len(ts)-1, int(len(ts)*0.99))]]))`;
      const [p50, p99] = JSON.parse(
        execFileSync(loadConfig({}).pythonPath, ["-c", script], { encoding: "utf8" }),
      ) as number[];
      return { p50: p50!, p99: p99! };
    }
    // The TypeScript program, transpiled by the runtime's own esbuild, imported from inside the runtime folder.
    const file = join(JS_RUNTIME_DIR, `.floor-${process.pid}.mjs`);
    const esbuild = join(JS_RUNTIME_DIR, "node_modules/esbuild/lib/main.js");
    const script = `import { transformSync } from ${JSON.stringify(esbuild)}; import { writeFileSync } from "node:fs";
const js = transformSync(${JSON.stringify(runtime.echo)}, { loader: "ts", format: "esm" }).code;
writeFileSync(${JSON.stringify(file)}, js);
const { app } = await import(${JSON.stringify(file)});
const ts = [];
for (let i = 0; i < ${RUNS + 20}; i++) { const t = performance.now(); await app.invoke({ messages: [{ role: "user", content: "Hello" }] }); ts.push(performance.now() - t); }
const s = ts.slice(20).sort((a, b) => a - b);
console.log(JSON.stringify([s[Math.floor(s.length / 2)], s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]]));`;
    try {
      const [p50, p99] = JSON.parse(
        execFileSync(process.execPath, ["--input-type=module", "-e", script], {
          encoding: "utf8",
          cwd: JS_RUNTIME_DIR,
        }),
      ) as number[];
      return { p50: p50!, p99: p99! };
    } finally {
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** RSS and PSS (MiB) of a process and its descendants. */
function treeMemory(pid: number): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  const visit = (p: number): void => {
    try {
      const rollup = readFileSync(`/proc/${p}/smaps_rollup`, "utf8");
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean))
        visit(Number(child));
    } catch {
      // gone
    }
  };
  visit(pid);
  return { rss: rss / 1024, pss: pss / 1024 };
}

/** Every process whose cgroup path names graphbox (sandboxes hang off their own cgroups, not the engine's tree). */
function sandboxMemory(): { rss: number; pss: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of execFileSync("ps", ["-eo", "pid="], { encoding: "utf8" })
    .split("\n")
    .map((s) => s.trim())
    .filter(Boolean)) {
    try {
      if (!readFileSync(`/proc/${pid}/cgroup`, "utf8").includes("graphbox")) continue;
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {
      // gone
    }
  }
  return { rss: rss / 1024, pss: pss / 1024 };
}

async function post(url: string, body: unknown): Promise<{ ms: number; ok: boolean; outcome: string }> {
  const t = performance.now();
  try {
    const response = await fetch(`${url}/execute-langgraph`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    return {
      ms: performance.now() - t,
      ok: answer["status"] === "success",
      outcome: answer["status"] === "error" ? String(answer["error_type"] ?? answer["code"]) : String(answer["status"]),
    };
  } catch (err: unknown) {
    return { ms: performance.now() - t, ok: false, outcome: `network: ${String(err)}` };
  }
}

/** RSS of one process, MiB (one small file). */
function processRss(pid: number): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

/** Memory charged to every graphbox-* cgroup beside the zygote's (sandboxes, zygote), MiB. */
function cgroupCharge(zygoteMemoryCgroup: string): number {
  const parent = dirname(zygoteMemoryCgroup);
  let bytes = 0;
  for (const name of readdirSync(parent).filter((n) => n.startsWith("graphbox-"))) {
    for (const file of ["memory.usage_in_bytes", "memory.current"]) {
      try {
        bytes += Number(readFileSync(join(parent, name, file), "utf8"));
        break;
      } catch {
        // gone, or the other cgroup version's file
      }
    }
  }
  return bytes / 2 ** 20;
}

const llm = await startLlmStandIn({ delayMs: 1000 });
const dataDir = mkdtempSync(join(tmpdir(), "graphbox-bench-"));
const engine = startEngineProcess(dataDir, randomPort(), {
  OPENAI_BASE_URL: llm.openaiBaseUrl,
  OPENAI_API_KEY: "sk-bench",
  GRAPHBOX_LOG_LEVEL: "error",
  GRAPHBOX_MAX_CONCURRENT: String(Math.max(LLM_CONCURRENT, 16)),
  GRAPHBOX_QUEUE_SIZE: "1000",
  GRAPHBOX_KEY_MAX_CONCURRENT: "1000",
});
await engine.ready;
await new Promise((r) => setTimeout(r, 3000)); // let the fork server and pools warm up
const ready = (await (await fetch(`${engine.url}/ready`)).json()) as Record<string, unknown>;

console.log(
  `# Graphbox over HTTP\n\nmachine: ${execFileSync("nproc").toString().trim()} cores; node ${process.version}; load average at start ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}\n`,
);
console.log(
  `idle engine + warm sandboxes: ${JSON.stringify(treeMemory(engine.child.pid!))} MiB (engine tree), ${JSON.stringify(sandboxMemory())} MiB (sandbox cgroups); warm start: ${JSON.stringify((ready as { warm_start?: unknown }).warm_start)}\n`,
);
console.log(
  "| runtime | floor p50 | floor p99 | HTTP p50 | HTTP p99 | p50 ratio | saturation runs/s |\n|---|---|---|---|---|---|---|",
);
for (const runtime of RUNTIMES) {
  const f = floor(runtime);
  const body = { code: runtime.echo, language: runtime.language, inputs: hello };
  for (let i = 0; i < 5; i++) await post(engine.url, body);
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await post(engine.url, body);
    if (r.ok) times.push(r.ms);
  }
  // Saturation: as many clients as cores x 4, for SECONDS.
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (performance.now() - started < SECONDS * 1000) if ((await post(engine.url, body)).ok) done++;
    }),
  );
  const rate = done / ((performance.now() - started) / 1000);
  const p50 = percentile(times, 50);
  console.log(
    `| ${runtime.name} | ${f.p50.toFixed(2)} ms | ${f.p99.toFixed(2)} ms | ${p50.toFixed(1)} ms | ${percentile(times, 99).toFixed(1)} ms | ${(p50 / f.p50).toFixed(0)}x | ${rate.toFixed(1)} |`,
  );
}

if (LLM_CONCURRENT > 0)
  console.log(`\n${LLM_CONCURRENT} concurrent LLM-bound executions (stand-in answers after 1 s):\n`);
if (LLM_CONCURRENT > 0)
  console.log(
    "| runtime | succeeded | p50 | p99 | peak engine RSS | peak sandbox cgroups | peak total |\n|---|---|---|---|---|---|---|",
  );
const zygoteCgroup = ((ready as { warm_start?: { python_fork_server?: { cgroupDirs?: string[] } } }).warm_start
  ?.python_fork_server?.cgroupDirs ?? [])[0];
for (const runtime of LLM_CONCURRENT > 0 ? RUNTIMES : []) {
  let peak = { engine: 0, sandboxes: 0, total: 0 };
  const sampler = setInterval(() => {
    const engineRss = processRss(engine.child.pid!);
    const sandboxes = zygoteCgroup ? cgroupCharge(zygoteCgroup) : 0;
    peak = {
      engine: Math.max(peak.engine, engineRss),
      sandboxes: Math.max(peak.sandboxes, sandboxes),
      total: Math.max(peak.total, engineRss + sandboxes),
    };
  }, 250);
  const results = await Promise.all(
    Array.from({ length: LLM_CONCURRENT }, () =>
      post(engine.url, {
        code: runtime.chat,
        language: runtime.language,
        inputs: { messages: [{ role: "user", content: "Say hello!" }] },
      }),
    ),
  );
  clearInterval(sampler);
  const ok = results.filter((r) => r.ok);
  const outcomes: Record<string, number> = {};
  for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  console.log(
    `| ${runtime.name} | ${ok.length}/${results.length} ${JSON.stringify(outcomes)} | ${(
      percentile(
        ok.map((r) => r.ms),
        50,
      ) / 1000
    ).toFixed(2)} s | ${(
      percentile(
        ok.map((r) => r.ms),
        99,
      ) / 1000
    ).toFixed(
      2,
    )} s | ${peak.engine.toFixed(0)} MiB | ${peak.sandboxes.toFixed(0)} MiB | ${peak.total.toFixed(0)} MiB |`,
  );
}

engine.child.kill("SIGTERM");
await engine.exited;
await llm.close();
rmSync(dataDir, { recursive: true, force: true });
