/**
 * The egress proxy through real HTTP: the compiled engine (dist/server.js) with
 * GRAPHBOX_EGRESS_ALLOW naming loopback HTTP and HTTPS servers by exact address, programs in both
 * runtimes that reach them with their usual clients, and every way around the policy refused.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";

import {
  PY_LLM_AND_EGRESS,
  PY_PROBE,
  PY_REACH,
  TS_LLM_AND_EGRESS,
  TS_PROBE,
  TS_REACH,
} from "./support/egress-programs.ts";
import { startUpstream, type Upstream } from "./support/egress-upstream.ts";
import { startLlmStandIn, type LlmStandIn } from "./support/llm-standin.ts";
import { compiledServer, randomPort, waitFor } from "./support/process.ts";

/** What the engine's bytes-in limit is here: a download of twice that ends the execution. */
const BYTES_IN_LIMIT = 1_048_576;
const CONNECTIONS_LIMIT = 4;

interface Engine {
  url: string;
  port: number;
  child: ChildProcess;
  /** The engine's log lines so far (pino JSON on stdout). */
  logs: string[];
}

async function startEngine(env: Record<string, string>): Promise<Engine> {
  const port = randomPort();
  const dataDir = mkdtempSync(join(tmpdir(), "graphbox-egress-store-"));
  const allow = (env["GRAPHBOX_EGRESS_ALLOW"] ?? "").replaceAll("ENGINE_PORT", String(port));
  const child = spawn(process.execPath, [compiledServer()], {
    env: {
      ...process.env,
      GRAPHBOX_PORT: String(port),
      GRAPHBOX_DATA_DIR: dataDir,
      GRAPHBOX_LOG_LEVEL: "warn",
      ...env,
      GRAPHBOX_EGRESS_ALLOW: allow,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const logs: string[] = [];
  let partial = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    logs.push(...lines);
  });
  child.once("exit", () => rmSync(dataDir, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => ((await fetch(`${url}/health`).catch(() => null))?.ok ? true : null), 60_000);
  return { url, port, child, logs };
}

async function stop(engine: Engine | undefined): Promise<void> {
  if (!engine || engine.child.exitCode !== null) return;
  const exited = new Promise((resolve) => engine.child.once("exit", resolve));
  engine.child.kill("SIGTERM");
  await exited;
}

type Outcome = Record<string, unknown> & {
  status: string;
  result?: { state: { out: Record<string, unknown> }; metadata: Record<string, unknown> };
  metadata?: Record<string, unknown>;
};

async function execute(
  engine: Engine,
  body: { code: string; language: string; cfg: Record<string, unknown>; egress?: string[] },
): Promise<Outcome> {
  const response = await fetch(`${engine.url}/execute-langgraph`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      code: body.code,
      language: body.language,
      inputs: { cfg: body.cfg },
      config: { timeout_ms: 60_000, ...(body.egress ? { egress: body.egress } : {}) },
    }),
  });
  return (await response.json()) as Outcome;
}

function outOf(outcome: Outcome): Record<string, unknown> {
  assert.equal(outcome.status, "success", JSON.stringify(outcome).slice(0, 3000));
  return outcome.result!.state.out;
}

type HostReport = { host: string; requests: number; bytes_in: number; bytes_out: number; refusals: number };
const egressOf = (outcome: Outcome): HostReport[] =>
  ((outcome.result?.metadata ?? outcome.metadata)?.["egress"] ?? []) as HostReport[];
const hostIn = (outcome: Outcome, host: string): HostReport | undefined =>
  egressOf(outcome).find((h) => h.host === host);

const METADATA_SPELLINGS = [
  "http://169.254.169.254/latest/meta-data/",
  "http://2852039166/latest/meta-data/",
  "http://0251.0376.0251.0376/latest/meta-data/",
  "http://0xA9FEA9FE/latest/meta-data/",
  "http://169.254.43518/latest/meta-data/",
  "http://[::ffff:169.254.169.254]/latest/meta-data/",
  "http://[::ffff:a9fe:a9fe]/latest/meta-data/",
];

describe("egress proxy", () => {
  let upstream: Upstream;
  let llm: LlmStandIn;
  let engine: Engine;
  let cfg: Record<string, unknown>;

  before(async () => {
    upstream = await startUpstream();
    llm = await startLlmStandIn();
    engine = await startEngine({
      OPENAI_BASE_URL: llm.openaiBaseUrl,
      OPENAI_API_KEY: "sk-test-engine-openai-key",
      // The servers by exact address; the stand-in by the name `localhost` only (it resolves to
      // loopback, and 127.0.0.1 is not listed at that port: refused); the
      // engine's own port listed (refused all the same); any host on port 80 (so the address rule
      // is what refuses the metadata service).
      GRAPHBOX_EGRESS_ALLOW: [
        `127.0.0.1:${upstream.httpPort}`,
        `127.0.0.1:${upstream.httpsPort}`,
        `localhost:${new URL(llm.url).port}`,
        "127.0.0.1:ENGINE_PORT",
        "*:80",
      ].join(","),
      GRAPHBOX_EGRESS_EXECUTION_BYTES_IN: String(BYTES_IN_LIMIT),
      GRAPHBOX_EGRESS_EXECUTION_CONNECTIONS: String(CONNECTIONS_LIMIT),
    });
    cfg = {
      http: upstream.httpUrl,
      https: upstream.httpsUrl,
      httpsAuthority: `127.0.0.1:${upstream.httpsPort}`,
      ca: upstream.caPem,
      refused: `${llm.url}/v1/models`,
    };
  });

  after(async () => {
    await stop(engine);
    await llm?.close();
    await upstream?.close();
  });

  test("python reaches an allowed host with requests, httpx, urllib and a LangChain tool, over HTTP and HTTPS", async () => {
    const outcome = await execute(engine, { code: PY_REACH, language: "python", cfg });
    const out = outOf(outcome);
    assert.match(String(out["proxy"]), /^127\.0\.0\.1:\d+$/);
    assert.equal(out["requests"], "hello http requests");
    assert.equal(out["httpx"], "hello http httpx");
    assert.equal(out["urllib"], "hello http urllib");
    assert.equal(out["https_requests"], "hello https requests");
    assert.equal(out["https_httpx"], "hello https httpx");
    assert.equal(out["tool"], "hello http tool");
    assert.equal(out["upload"], "received 5000");
    // The redirect's target (the LLM stand-in, off the list) is refused when the client follows it.
    const [status, body] = out["redirect"] as [number, string];
    assert.equal(status, 403);
    assert.match(body, /refused by GRAPHBOX_EGRESS_ALLOW/);
    assert.equal(llm.calls.length, 0, "the stand-in was never reached");

    const local = hostIn(outcome, "127.0.0.1");
    assert.ok(local, JSON.stringify(egressOf(outcome)));
    assert.ok(local.requests >= 8, `requests ${local.requests}`);
    assert.ok(local.bytes_out > 5000, `bytes_out ${local.bytes_out}`);
    assert.ok(local.bytes_in > 100, `bytes_in ${local.bytes_in}`);
    assert.equal(local.refusals, 1, "the redirect's target");
  });

  test("javascript reaches an allowed host with fetch and a LangChain tool; HTTPS through a checked tunnel", async () => {
    const outcome = await execute(engine, { code: TS_REACH, language: "typescript", cfg });
    const out = outOf(outcome);
    assert.match(String(out["proxy"]), /^127\.0\.0\.1:\d+$/);
    assert.equal(out["fetch"], "hello http fetch");
    assert.equal(out["tool"], "hello http tool");
    assert.equal(out["upload"], "received 3000");
    assert.equal(out["tunnel"], "hello https tunnel");
    // undici tunnels every proxied request: the CONNECT for the redirect's target gets the 403,
    // which fetch reports as a failed request (the refusal is counted below).
    const [status] = out["redirect"] as [string, string];
    assert.equal(status, "failed");
    assert.equal(llm.calls.length, 0, "the stand-in was never reached");
    // undici keeps its tunnels alive and sends several requests down one: a tunnel counts once.
    const local = hostIn(outcome, "127.0.0.1");
    assert.ok(local && local.requests >= 2 && local.bytes_in > 0 && local.bytes_out > 3000, JSON.stringify(local));
    assert.equal(local.refusals, 1);
  });

  for (const [language, code] of [
    ["python", PY_PROBE],
    ["typescript", TS_PROBE],
  ] as const) {
    test(`${language}: off-list hosts, the engine, the stand-in, loopback by name and the metadata service are refused by rule`, async () => {
      const targets = [
        "http://not-listed.example:81/",
        `http://127.0.0.1:${engine.port}/health`,
        `${llm.url}/v1/models`,
        `${llm.url.replace("127.0.0.1", "localhost")}/v1/models`,
        ...METADATA_SPELLINGS,
      ];
      const direct = [
        ["127.0.0.1", upstream.httpPort],
        ["127.0.0.1", engine.port],
        ["10.0.0.1", 80],
        ["1.1.1.1", 443],
      ];
      const connects = language === "python" ? ["2852039166:80", `localhost:${new URL(llm.url).port}`] : [];
      const outcome = await execute(engine, { code, language, cfg: { targets, direct, connects } });
      const out = outOf(outcome);
      const got = out["get"] as [string, number, string][];
      const byUrl = new Map(got.map(([url, status, body]) => [url, { status, body }]));
      const expect = (url: string, status: number, rule: RegExp): void => {
        const seen = byUrl.get(url);
        assert.ok(seen, url);
        assert.equal(seen.status, status, `${url}: ${seen.body}`);
        assert.match(seen.body, rule, url);
      };
      expect("http://not-listed.example:81/", 403, /refused by GRAPHBOX_EGRESS_ALLOW/);
      expect(`http://127.0.0.1:${engine.port}/health`, 403, /refused by the engine's own listener rule/);
      expect(`${llm.url}/v1/models`, 403, /refused by GRAPHBOX_EGRESS_ALLOW/);
      expect(
        `${llm.url.replace("127.0.0.1", "localhost")}/v1/models`,
        403,
        /refused by the address rule: localhost is (127\.0\.0\.1, loopback|::1, loopback)/,
      );
      for (const url of METADATA_SPELLINGS)
        expect(
          url,
          403,
          /refused by the address rule: 169\.254\.169\.254 is 169\.254\.169\.254, the cloud metadata address/,
        );
      for (const [authority, status, body] of (out["connect"] ?? []) as [string, number, string][]) {
        assert.equal(status, 403, authority);
        assert.match(body, /refused by the address rule/);
      }
      // No route out but the bridge to the gateway: loopback has nothing else, other networks no route.
      for (const [host, port, error] of out["direct"] as [string, number, string][]) {
        assert.doesNotMatch(error, /connected/, `${host}:${port}`);
        if (host === "127.0.0.1") assert.match(error, /ECONNREFUSED|ConnectionRefused/, `${host}:${port}`);
        else assert.match(error, /ENETUNREACH|Network is unreachable|unreachable/i, `${host}:${port}: ${error}`);
      }
      assert.equal(llm.calls.length, 0);
      assert.ok(!upstream.seen.some((s) => s.includes("latest")), "no request reached an upstream by a refused route");

      const metadata = hostIn(outcome, "169.254.169.254");
      assert.ok(metadata, JSON.stringify(egressOf(outcome)));
      assert.equal(metadata.refusals, METADATA_SPELLINGS.length + (language === "python" ? 1 : 0));
      assert.equal(metadata.requests, 0);
      assert.equal(hostIn(outcome, "localhost")?.refusals, language === "python" ? 2 : 1);
    });
  }

  test("config.egress narrows the engine's list, and [] turns egress off for the execution", async () => {
    const narrowed = await execute(engine, {
      code: PY_PROBE,
      language: "python",
      cfg: { targets: [`${upstream.httpUrl}/hello`, `${upstream.httpsUrl.replace("https", "http")}/x`] },
      egress: [`127.0.0.1:${upstream.httpsPort}`, "api.example.com"],
    });
    const got = outOf(narrowed)["get"] as [string, number, string][];
    assert.equal(got[0]?.[1], 403);
    assert.match(got[0]?.[2] ?? "", /refused by config\.egress/);
    assert.notEqual(got[1]?.[1], 403, "the narrower list still lets its own host through");

    const off = await execute(engine, { code: PY_PROBE, language: "python", cfg: {}, egress: [] });
    assert.deepEqual(outOf(off), { proxy: null });
    assert.equal(egressOf(off).length, 0);
    assert.equal((off.result?.metadata ?? {})["egress"], undefined, "no egress: no metadata.egress");

    const widened = await fetch(`${engine.url}/execute-langgraph`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ code: PY_PROBE, language: "python", config: { egress: ["bad host:x"] } }),
    });
    assert.equal(widened.status, 400);
  });

  test("bytes over the execution's limit end it with GBX_ERR_EGRESS_LIMIT, in both runtimes", async () => {
    for (const [language, code] of [
      ["python", PY_REACH],
      ["typescript", TS_REACH],
    ] as const) {
      const outcome = await execute(engine, { code, language, cfg: { ...cfg, big: BYTES_IN_LIMIT * 2 } });
      assert.equal(outcome.status, "error", JSON.stringify(outcome).slice(0, 2000));
      assert.equal(outcome["code"], "GBX_ERR_EGRESS_LIMIT");
      assert.equal(outcome["error_type"], "resource_limit");
      assert.match(String(outcome["error"]), /GRAPHBOX_EGRESS_EXECUTION_BYTES_IN/);
      const local = hostIn(outcome, "127.0.0.1");
      assert.ok(local && local.bytes_in > BYTES_IN_LIMIT, JSON.stringify(local));
    }
  });

  test("connections past the execution's limit are refused with 429", async () => {
    const hold = Array.from({ length: CONNECTIONS_LIMIT + 1 }, () => `127.0.0.1:${upstream.httpPort}`);
    const out = outOf(await execute(engine, { code: PY_PROBE, language: "python", cfg: { hold } }));
    assert.deepEqual(out["held"], [...Array.from({ length: CONNECTIONS_LIMIT }, () => 200), 429]);
  });

  test("refusals and bytes show in /metrics, and each refusal is one log line", async () => {
    const metrics = await (await fetch(`${engine.url}/metrics`)).text();
    const value = (series: string): number => {
      const line = metrics.split("\n").find((l) => l.startsWith(series + " "));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };
    assert.ok(
      value('graphbox_egress_connections_total{host="127.0.0.1",outcome="allowed"}') > 10,
      metrics.slice(0, 200),
    );
    assert.ok(value('graphbox_egress_connections_total{host="169.254.169.254",outcome="address"}') >= 14);
    assert.ok(value('graphbox_egress_connections_total{host="localhost",outcome="address"}') >= 3);
    assert.ok(value('graphbox_egress_connections_total{host="127.0.0.1",outcome="own_port"}') >= 2);
    assert.ok(value('graphbox_egress_bytes_total{host="127.0.0.1",direction="in"}') > BYTES_IN_LIMIT);
    assert.ok(value('graphbox_egress_bytes_total{host="127.0.0.1",direction="out"}') > 8000);

    const refusals = await waitFor(async () => {
      const lines = engine.logs.filter((l) => l.includes('"msg":"egress refused"'));
      return lines.length >= 20 ? lines : null;
    });
    const one = JSON.parse(refusals.find((l) => l.includes("169.254.169.254"))!) as Record<string, unknown>;
    assert.equal(one["rule"], "address");
    assert.equal(typeof one["execution_id"], "string");
    const health = await fetch(`${engine.url}/health`);
    assert.equal(health.status, 200);
  });

  // Last: the tests above check that the stand-in was never reached.
  test("LLM calls still go to the gateway with egress on, and are not counted as egress", async () => {
    for (const [language, code] of [
      ["python", PY_LLM_AND_EGRESS],
      ["typescript", TS_LLM_AND_EGRESS],
    ] as const) {
      const before = llm.calls.length;
      const outcome = await execute(engine, { code, language, cfg });
      const out = outOf(outcome);
      assert.match(String(out["reply"]), /Hello from the stand-in/);
      assert.equal(out["hello"], `hello http ${language === "python" ? "requests" : "fetch"}`);
      if (language === "python") assert.equal(out["models"], 200);
      assert.equal(llm.calls.length - before, language === "python" ? 2 : 1);
      assert.ok(Number(outcome.result!.metadata["tokens_used"]) > 0);
      assert.deepEqual(
        egressOf(outcome).map((h) => [h.host, h.requests, h.refusals]),
        [["127.0.0.1", 1, 0]],
      );
    }
  });
});
