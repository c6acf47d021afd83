/**
 * What a run of LangGraph's Agent API costs over the same program sent to `/execute-langgraph`
 * (the baseline, measured in the same run, interleaved): the corpus' echo graph, registered once
 * with `PUT /graphs/{id}`, run sequentially through the official JS SDK as a stateless `wait`, as a
 * `wait` on a fresh thread (thread creation included), and as a streamed run with `values`.
 * Reported as p50/p99 and the p50 ratio against the baseline, per runtime.
 *
 *   node --import tsx bench/agent-runs.ts [--runs 40] [--runtimes python,typescript]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { Client } from "@langchain/langgraph-sdk";

import { programSource } from "../test/support/corpus.ts";
import { randomPort, startEngineProcess } from "../test/support/process.ts";

const { values: args } = parseArgs({
  options: { runs: { type: "string", default: "40" }, runtimes: { type: "string", default: "python,typescript" } },
});
const RUNS = Number(args.runs);
const KEY = "bench-key-0123456789abcdef";
const RUNTIMES = [
  { name: "python", language: "python", code: programSource("python/01_echo.py") },
  { name: "typescript", language: "typescript", code: programSource("typescript/01_echo.ts") },
].filter((r) => args.runtimes.split(",").includes(r.name));
const input = { messages: [{ role: "user", content: "Hello" }] };

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

const dataDir = mkdtempSync(join(tmpdir(), "graphbox-bench-"));
const engine = startEngineProcess(dataDir, randomPort(), {
  GRAPHBOX_LOG_LEVEL: "error",
  GRAPHBOX_API_KEYS: `bench=${KEY}`,
});
try {
  await engine.ready;
  const client = new Client({ apiUrl: engine.url, apiKey: KEY });
  console.log(
    `# Agent API runs against /execute-langgraph\n\nload average at start ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")}; ${RUNS} sequential runs of each kind, interleaved\n`,
  );
  console.log("| runtime | kind | p50 ms | p99 ms | p50 ratio |\n|---|---|---|---|---|");
  for (const runtime of RUNTIMES) {
    const graphId = `echo-${runtime.name}`;
    const registered = await fetch(`${engine.url}/graphs/${graphId}`, {
      method: "PUT",
      headers: { "content-type": "application/json", "x-api-key": KEY },
      body: JSON.stringify({ code: runtime.code, language: runtime.language }),
    });
    if (!registered.ok) throw new Error(`registering ${graphId}: ${registered.status} ${await registered.text()}`);
    const kinds: Record<string, () => Promise<unknown>> = {
      "/execute-langgraph (baseline)": async () => {
        const response = await fetch(`${engine.url}/execute-langgraph`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": KEY },
          body: JSON.stringify({ code: runtime.code, language: runtime.language, inputs: input }),
        });
        if ((await response.json()).status !== "success") throw new Error("the baseline run failed");
      },
      "runs.wait, stateless": () => client.runs.wait(null, graphId, { input }),
      "threads.create + runs.wait": async () => {
        const thread = await client.threads.create();
        await client.runs.wait(thread.thread_id, graphId, { input });
      },
      "runs.stream (values)": async () => {
        for await (const chunk of client.runs.stream(null, graphId, { input })) void chunk;
      },
    };
    const samples = new Map(Object.keys(kinds).map((kind) => [kind, [] as number[]]));
    for (const f of Object.values(kinds)) await f(); // warm every path once
    for (let i = 0; i < RUNS; i++)
      for (const [kind, f] of Object.entries(kinds)) samples.get(kind)!.push(await timed(f));
    const baseline = percentile(samples.get("/execute-langgraph (baseline)")!, 50);
    for (const [kind, values] of samples) {
      const p50 = percentile(values, 50);
      console.log(
        `| ${runtime.name} | ${kind} | ${p50.toFixed(0)} | ${percentile(values, 99).toFixed(0)} | ${(p50 / baseline).toFixed(2)} |`,
      );
    }
  }
} finally {
  engine.child.kill("SIGTERM");
  await engine.exited;
  rmSync(dataDir, { recursive: true, force: true });
}
