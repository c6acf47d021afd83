/**
 * The egress proxy's added latency per request, against the same request made directly in the
 * same run (the machines are shared and noisy: compare, don't trust absolute numbers). Three ways
 * a client goes through it: plain HTTP in absolute form (the proxy opens a new upstream connection
 * per request), a new CONNECT tunnel per request (what a client without keep-alive does), and
 * requests down one kept-alive tunnel (what undici and requests' sessions do).
 *
 *   node --import tsx bench/egress.ts [requests=1000]
 */
import { Agent, createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";

import { loadConfig } from "../src/config/index.ts";
import { EgressProxy } from "../src/egress/proxy.ts";
import { Gateway } from "../src/gateway/gateway.ts";

const REQUESTS = Number(process.argv[2] ?? 1000);

const upstream = createServer((_req, res) => res.end("hello"));
await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
const target = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const config = loadConfig({ GRAPHBOX_EGRESS_ALLOW: target });
const proxy = new EgressProxy(config);
const gateway = new Gateway(config, {
  modelAllowlist: [],
  upstreamTimeoutMs: 10_000,
  forwardProxy: {
    request: (req, res) => proxy.handleRequest(req, res),
    connect: (req, socket, head) => proxy.handleConnect(req, socket, head),
  },
});
await gateway.listen();
proxy.setGatewayPort(Number(new URL(gateway.url).port));
const account = proxy.open("bench", { owner: "bench", requested: null, onLimit: () => undefined })!;
const proxyUrl = new URL(gateway.url);
const auth = `Basic ${Buffer.from(`gbx:${account.credential}`).toString("base64")}`;

const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });

function finish(res: IncomingMessage, started: bigint, resolve: (ms: number) => void): void {
  res.resume();
  res.on("end", () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
}

/** GET http://target/ straight to the upstream (keep-alive), or in absolute form to the proxy. */
function plain(viaProxy: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = viaProxy
      ? request(
          {
            host: proxyUrl.hostname,
            port: proxyUrl.port,
            path: `http://${target}/`,
            agent: keepAlive,
            headers: { "proxy-authorization": auth },
          },
          (res) => finish(res, started, resolve),
        )
      : request(`http://${target}/`, { agent: keepAlive }, (res) => finish(res, started, resolve));
    req.on("error", reject);
    req.end();
  });
}

/** A new CONNECT tunnel and one HTTP/1.0 request down it. */
function tunnel(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request({
      host: proxyUrl.hostname,
      port: proxyUrl.port,
      method: "CONNECT",
      path: target,
      agent: false,
      headers: { "proxy-authorization": auth },
    });
    req.on("connect", (_res, socket) => {
      socket.write(`GET / HTTP/1.0\r\nHost: ${target}\r\n\r\n`);
      socket.resume();
      socket.on("end", () => {
        socket.destroy();
        resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** A request down one tunnel opened once (keep-alive through it), as undici does. */
async function openTunnelAgent(): Promise<{ agent: Agent; socket: Socket }> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const req = request({
      host: proxyUrl.hostname,
      port: proxyUrl.port,
      method: "CONNECT",
      path: target,
      agent: false,
      headers: { "proxy-authorization": auth },
    });
    req.on("connect", (_res, s) => resolve(s));
    req.on("error", reject);
    req.end();
  });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  // The agent's one socket is the tunnel.
  (agent as unknown as { createConnection: () => Socket }).createConnection = () => socket;
  return { agent, socket };
}

function down(agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(`http://${target}/`, { agent }, (res) => finish(res, started, resolve));
    req.on("error", reject);
    req.end();
  });
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

const tunnelled = await openTunnelAgent();
const ways: [string, () => Promise<number>][] = [
  ["direct (keep-alive)", () => plain(false)],
  ["plain HTTP, absolute form", () => plain(true)],
  ["new CONNECT tunnel per request", tunnel],
  ["requests down one kept-alive tunnel", () => down(tunnelled.agent)],
];
// Interleaved in rounds of 50, so the machine's noise falls on every way alike; the first round is warm-up.
const times = new Map<string, number[]>(ways.map(([name]) => [name, []]));
const ROUND = 50;
for (let round = 0; round <= Math.ceil(REQUESTS / ROUND); round++) {
  for (const [name, one] of ways) {
    for (let i = 0; i < ROUND; i++) {
      const ms = await one();
      if (round > 0) times.get(name)!.push(ms);
    }
  }
}
tunnelled.socket.destroy();
const direct = times.get("direct (keep-alive)")!;
const rows = ways.slice(1).map(([name]) => [name, times.get(name)!] as const);
const f = (ms: number): string => `${ms.toFixed(3)} ms`;
console.log(`| how | direct p50 | via proxy p50 | added p50 | added p99 |`);
console.log(`|---|---|---|---|---|`);
for (const [name, times] of rows) {
  console.log(
    `| ${name} | ${f(percentile(direct, 50))} | ${f(percentile(times, 50))} | +${(percentile(times, 50) - percentile(direct, 50)).toFixed(2)} ms | +${(percentile(times, 99) - percentile(direct, 99)).toFixed(2)} ms |`,
  );
}
const report = account.report()[0];
console.log(`\nmetered: ${JSON.stringify(report)}`);
proxy.release(account);
await gateway.close();
keepAlive.destroy();
upstream.close();
