/**
 * The gateway's added latency per LLM call, against calling the LLM stand-in directly in the
 * same run (the machines are shared and noisy: compare, don't trust absolute numbers).
 *
 *   node --import tsx bench/gateway.ts [calls=2000]
 */
import { Agent, request } from "node:http";

import { loadConfig } from "../src/config/index.ts";
import { Gateway } from "../src/gateway/gateway.ts";
import { startLlmStandIn } from "../test/support/llm-standin.ts";

const CALLS = Number(process.argv[2] ?? 2000);
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

interface Timing {
  total: number;
  firstByte: number;
}

function call(url: string, key: string, body: string): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    let firstByte = 0;
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${key}`,
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        res.on("data", () => {
          if (firstByte === 0) firstByte = Number(process.hrtime.bigint() - started) / 1e6;
        });
        res.on("end", () => resolve({ total: Number(process.hrtime.bigint() - started) / 1e6, firstByte }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

async function measure(url: string, key: string, body: string): Promise<{ total: number[]; firstByte: number[] }> {
  for (let i = 0; i < 100; i++) await call(url, key, body); // warm-up
  const total: number[] = [];
  const firstByte: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t = await call(url, key, body);
    total.push(t.total);
    firstByte.push(t.firstByte);
  }
  return { total, firstByte };
}

const llm = await startLlmStandIn();
const config = loadConfig({}, { openai: { baseUrl: llm.openaiBaseUrl, apiKey: "sk-bench" } });
const gateway = new Gateway(config, { modelAllowlist: [], upstreamTimeoutMs: 10_000 });
await gateway.listen();
const account = gateway.open("bench", { budget: null });

const plain = JSON.stringify({ model: "gpt-4o-mini", messages: [{ role: "user", content: "benchmark me" }] });
const streamed = JSON.stringify({
  model: "gpt-4o-mini",
  stream: true,
  stream_options: { include_usage: true },
  messages: [{ role: "user", content: "benchmark me please now" }],
});

const rows: string[] = [];
for (const [name, body, field] of [
  ["non-streaming call", plain, "total"],
  ["streaming: time to first token", streamed, "firstByte"],
] as const) {
  // Interleave the two so drift on a shared machine hits both alike.
  const direct = await measure(`${llm.openaiBaseUrl}/chat/completions`, "sk-bench", body);
  const via = await measure(`${gateway.url}/openai/v1/chat/completions`, account.credential, body);
  const direct2 = await measure(`${llm.openaiBaseUrl}/chat/completions`, "sk-bench", body);
  const base = [...direct[field], ...direct2[field]];
  for (const p of [50, 99]) {
    const d = percentile(base, p);
    const g = percentile(via[field], p);
    rows.push(
      `| ${name} | p${p} | ${d.toFixed(3)} ms | ${g.toFixed(3)} ms | +${(g - d).toFixed(3)} ms | ${(g / d).toFixed(2)}x |`,
    );
  }
}
console.log(`gateway benchmark: ${CALLS} sequential calls each way, keep-alive, loopback\n`);
console.log("| what | percentile | direct to stand-in | through gateway | added | ratio |\n|---|---|---|---|---|---|");
console.log(rows.join("\n"));
console.log(`\ncharged through the gateway: ${account.usage.snapshot().total_tokens} tokens in ${account.calls} calls`);
agent.destroy();
await gateway.close();
await llm.close();
