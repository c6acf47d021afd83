/**
 * Load test: drives a started engine over HTTP with a mix of the workflow corpus and LLM-bound
 * programs (against a slow LLM stand-in), and reports throughput, latency percentiles, errors by
 * type and queue waits. With --soak-minutes it runs that long and also reports the engine's RSS
 * over time and what executions left behind (processes, cgroups, mounts, temporary dirs: must be 0).
 *
 *   node --import tsx bench/load.ts [--seconds 60] [--concurrency 16] [--llm-delay-ms 1000] [--soak-minutes 10] [--languages python,typescript]
 *
 * It starts its own engine process (as `npm start` would) on a free port with a fresh data dir.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { programSource } from "../test/support/corpus.ts";
import { startLlmStandIn } from "../test/support/llm-standin.ts";
import { randomPort, startEngineProcess } from "../test/support/process.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    concurrency: { type: "string", default: "16" },
    "llm-delay-ms": { type: "string", default: "1000" },
    "soak-minutes": { type: "string", default: "0" },
    languages: { type: "string", default: "python" },
  },
});
const soakMinutes = Number(args["soak-minutes"]);
const durationMs = soakMinutes > 0 ? soakMinutes * 60_000 : Number(args.seconds) * 1000;
const concurrency = Number(args.concurrency);
const languages = args.languages!.split(",");

interface Job {
  name: string;
  body: Record<string, unknown>;
}

const hello = { messages: [{ role: "user", content: "Hello" }] };
const JOBS: Job[] = [];
for (const language of languages) {
  const dir = language === "python" ? "python" : "typescript";
  const ext = language === "python" ? "py" : "ts";
  const program = (name: string) => programSource(`${dir}/${name}.${ext}`);
  JOBS.push(
    { name: `${language}:echo`, body: { code: program("01_echo"), language, inputs: hello } },
    {
      name: `${language}:map-reduce`,
      body: { code: program("06_map_reduce"), language, inputs: { topics: ["b", "a", "c"] } },
    },
    {
      name: `${language}:chat (LLM)`,
      body: { code: program("02_chat"), language, inputs: { messages: [{ role: "user", content: "Say hello!" }] } },
    },
    {
      name: `${language}:anthropic (LLM)`,
      body: { code: program("11_anthropic"), language, inputs: { messages: [{ role: "user", content: "Hi" }] } },
    },
  );
}

interface Sample {
  job: string;
  ms: number;
  http: number;
  outcome: string;
}

const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

/** RSS (MiB) of a process and all its descendants. */
function treeRssMiB(pid: number): number {
  let total = 0;
  const visit = (p: number): void => {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const children = readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim();
      for (const child of children.split(/\s+/).filter(Boolean)) visit(Number(child));
    } catch {
      // gone
    }
  };
  visit(pid);
  return total / 1024;
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  const visit = (p: number): void => {
    try {
      for (const child of readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean)) {
        found.push(Number(child));
        visit(Number(child));
      }
    } catch {
      // gone
    }
  };
  visit(pid);
  return found;
}

/** A process as seen now: pid plus start time, so a reused pid is not mistaken for it. */
function identity(pid: number): string | null {
  try {
    return `${pid}:${readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")[19]}`;
  } catch {
    return null;
  }
}

/** Everything the engine's executions created, sampled while they ran, to check after the engine stopped. */
class Witness {
  readonly processes = new Map<string, string>();
  readonly cgroups = new Set<string>();
  sample(enginePid: number): void {
    for (const pid of descendants(enginePid)) {
      const id = identity(pid);
      if (!id) continue;
      try {
        this.processes.set(id, readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").slice(0, 100));
        for (const line of readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n")) {
          const [, controller, path] = line.split(":");
          if (path && path.includes("graphbox"))
            this.cgroups.add(`/sys/fs/cgroup/${controller === "" ? "unified" : controller!.split(",")[0]}${path}`);
        }
      } catch {
        // gone
      }
    }
  }
  leftovers(tmp: string): Record<string, string[]> {
    return {
      processes: [...this.processes]
        .filter(([id]) => identity(Number(id.split(":")[0])) === id)
        .map(([id, cmd]) => `${id} ${cmd}`),
      cgroups: [...this.cgroups].filter((path) => existsSync(path)),
      mounts: readFileSync("/proc/mounts", "utf8")
        .split("\n")
        .filter((l) => l.includes(tmp)),
      temporary_dirs: readdirSync(tmp),
    };
  }
}

async function metricsText(url: string): Promise<string> {
  try {
    return await (await fetch(`${url}/metrics`)).text();
  } catch {
    return "";
  }
}

const llm = await startLlmStandIn({ delayMs: Number(args["llm-delay-ms"]) });
const dataDir = mkdtempSync(join(tmpdir(), "graphbox-load-"));
// The engine's own TMPDIR: whatever its executions leave in tmp shows here and nowhere else.
const engineTmp = mkdtempSync(join(tmpdir(), "graphbox-load-tmp-"));
// Sandboxes run as uid 65534 on the host and must traverse the engine's tmp to reach the gateway socket.
chmodSync(engineTmp, 0o755);
const witness = new Witness();
const engine = startEngineProcess(dataDir, randomPort(), {
  TMPDIR: engineTmp,
  OPENAI_BASE_URL: llm.openaiBaseUrl,
  OPENAI_API_KEY: "sk-load-test",
  ANTHROPIC_BASE_URL: llm.anthropicBaseUrl,
  ANTHROPIC_API_KEY: "sk-ant-load-test",
  GRAPHBOX_LOG_LEVEL: "error",
});
await engine.ready;
const enginePid = engine.child.pid!;

const samples: Sample[] = [];
const rss: { minute: number; mib: number }[] = [];
const started = performance.now();
let next = 0;
const rssTimer = setInterval(
  () => rss.push({ minute: (performance.now() - started) / 60_000, mib: treeRssMiB(enginePid) }),
  soakMinutes > 0 ? 30_000 : 5_000,
);
const witnessTimer = setInterval(() => witness.sample(enginePid), 500);

async function worker(): Promise<void> {
  while (performance.now() - started < durationMs) {
    const job = JOBS[next++ % JOBS.length]!;
    const t0 = performance.now();
    let http = 0;
    let outcome = "network_error";
    try {
      const response = await fetch(`${engine.url}/execute-langgraph`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(job.body),
      });
      http = response.status;
      const body = (await response.json()) as Record<string, unknown>;
      outcome = body["status"] === "error" ? String(body["error_type"] ?? body["code"]) : String(body["status"]);
      if (http === 429 || http === 503)
        await new Promise((r) => setTimeout(r, Number(response.headers.get("retry-after") ?? 1) * 1000));
    } catch {
      // counted as network_error
    }
    samples.push({ job: job.name, ms: performance.now() - t0, http, outcome });
  }
}

await Promise.all(Array.from({ length: concurrency }, () => worker()));
clearInterval(rssTimer);
clearInterval(witnessTimer);
rss.push({ minute: (performance.now() - started) / 60_000, mib: treeRssMiB(enginePid) });
const elapsedS = (performance.now() - started) / 1000;
const metrics = await metricsText(engine.url);
engine.child.kill("SIGTERM");
await engine.exited;
await new Promise((r) => setTimeout(r, 2000)); // anything of the engine's still alive now is a leftover
const left = witness.leftovers(engineTmp);
rmSync(engineTmp, { recursive: true, force: true });
await llm.close();
rmSync(dataDir, { recursive: true, force: true });

// ---- report
const ok = samples.filter((s) => s.outcome === "success");
console.log(`# Graphbox load test\n`);
console.log(
  `machine: ${execFileSync("nproc").toString().trim()} cores, ${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync("/proc/meminfo", "utf8"))?.[1]) / 1024 / 1024)} GiB; node ${process.version}`,
);
console.log(
  `duration ${elapsedS.toFixed(0)} s, ${concurrency} concurrent clients, LLM stand-in delay ${args["llm-delay-ms"]} ms, languages ${languages.join(", ")}\n`,
);
console.log(
  `throughput: ${(samples.length / elapsedS).toFixed(2)} requests/s, ${(ok.length / elapsedS).toFixed(2)} successes/s (${samples.length} requests)\n`,
);
console.log("| program | requests | success | p50 ms | p90 ms | p99 ms |\n|---|---|---|---|---|---|");
for (const job of JOBS) {
  const mine = samples.filter((s) => s.job === job.name);
  const times = mine.filter((s) => s.outcome === "success").map((s) => s.ms);
  console.log(
    `| ${job.name} | ${mine.length} | ${times.length} | ${percentile(times, 50).toFixed(0)} | ${percentile(times, 90).toFixed(0)} | ${percentile(times, 99).toFixed(0)} |`,
  );
}
const outcomes: Record<string, number> = {};
for (const s of samples) outcomes[`${s.http} ${s.outcome}`] = (outcomes[`${s.http} ${s.outcome}`] ?? 0) + 1;
console.log(`\noutcomes (HTTP status, status or error_type): ${JSON.stringify(outcomes)}`);
const qSum = Number(/graphbox_queue_wait_seconds_sum(?:\{[^}]*\})? ([\d.e+-]+)/.exec(metrics)?.[1] ?? NaN);
const qCount = Number(/graphbox_queue_wait_seconds_count(?:\{[^}]*\})? ([\d.e+-]+)/.exec(metrics)?.[1] ?? NaN);
if (!Number.isNaN(qSum) && qCount > 0)
  console.log(
    `queue wait (from /metrics): mean ${((qSum / qCount) * 1000).toFixed(1)} ms over ${qCount} admitted executions`,
  );
console.log(
  `\nengine + sandboxes RSS (MiB) over time: ${rss.map((r) => `${r.minute.toFixed(1)}m=${r.mib.toFixed(0)}`).join(", ")}`,
);
console.log(
  `after the engine stopped (SIGTERM): ${witness.processes.size} sandbox processes and ${witness.cgroups.size} cgroups were seen during the run`,
);
console.log(
  `leftovers: ${Object.entries(left)
    .map(([k, v]) => `${k}=${v.length}`)
    .join(", ")}`,
);
for (const [kind, items] of Object.entries(left)) for (const item of items) console.log(`  ${kind}: ${item}`);
