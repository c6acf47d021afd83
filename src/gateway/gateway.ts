/**
 * The only way out of a sandbox: an HTTP proxy that speaks the OpenAI and Anthropic APIs,
 * checks the execution's credential, puts the real key on the way out, streams the answer
 * back as it arrives, and charges the usage the provider reported to the execution.
 */
import { createServer, request as httpRequest, Agent as HttpAgent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { request as httpsRequest, Agent as HttpsAgent } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Config } from "../config/index.ts";
import type { LlmCallInfo } from "../observability/observer.ts";
import { AccountRegistry, type AccountOptions, type ExecutionAccount } from "./accounts.ts";
import { providers, routeOf, type Provider } from "./providers.ts";
import { StreamUsageTap, usageOfBody } from "./usage.ts";

/** Request headers never forwarded: hop-by-hop, the program's placeholder keys, and what we recompute. */
const DROPPED_REQUEST_HEADERS = new Set([
  "host", "connection", "keep-alive", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
  "authorization", "x-api-key", "api-key", "content-length", "cookie", "accept-encoding",
]);
const DROPPED_RESPONSE_HEADERS = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "set-cookie"]);
const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
/** How much of a JSON answer is kept to read its usage; bigger answers pass through uncounted (embeddings of huge batches). */
const MAX_ANSWER_BYTES_READ = 16 * 1024 * 1024;

export interface GatewayOptions {
  /** Models a program may call; `*` wildcards allowed. Empty: all. */
  modelAllowlist: string[];
  /** Time allowed for the upstream to start answering. */
  upstreamTimeoutMs: number;
  /** Told of every forwarded call when it ends (metrics, traces). */
  onCall?: (call: LlmCallInfo) => void;
}

function credentialOf(req: IncomingMessage): string | null {
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey !== "") return apiKey;
  const auth = req.headers["authorization"];
  const match = typeof auth === "string" ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return match?.[1] ?? null;
}

function allowed(model: string, allowlist: string[]): boolean {
  if (allowlist.length === 0) return true;
  return allowlist.some((pattern) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(model));
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export class Gateway {
  readonly accounts = new AccountRegistry();
  private readonly server: Server;
  /** The same gateway on a Unix socket: the one door a sandbox gets (bound in, no network needed). */
  private readonly socketServer: Server;
  private socketDir: string | null = null;
  private readonly providers: ReturnType<typeof providers>;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  private port = 0;

  constructor(config: Readonly<Config>, private readonly options: GatewayOptions) {
    this.providers = providers(config);
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
        res.end();
      });
    };
    this.server = createServer(handler);
    this.socketServer = createServer(handler);
    // Streams can be long; the upstream timeout guards the start, not the whole answer.
    this.server.requestTimeout = 0;
    this.socketServer.requestTimeout = 0;
  }

  /** Listens on a loopback port (unsandboxed runs, benchmarks) and on a Unix socket (sandboxes). */
  async listen(host = "127.0.0.1", port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    // A private directory (mode 0700) so no other local user can reach the socket.
    this.socketDir = mkdtempSync(join(tmpdir(), "graphbox-gateway-"));
    const path = this.socketPath!;
    await new Promise<void>((resolve, reject) => {
      this.socketServer.once("error", reject);
      this.socketServer.listen(path, () => resolve());
    });
  }

  /** Host path of the gateway's Unix socket (null before listen). */
  get socketPath(): string | null {
    return this.socketDir ? join(this.socketDir, "gateway.sock") : null;
  }

  /** Base URL of the gateway as seen from an unsandboxed process on this host. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  open(executionId: string, options: AccountOptions): ExecutionAccount {
    return this.accounts.open(executionId, options);
  }

  release(account: ExecutionAccount): void {
    this.accounts.close(account);
  }

  async close(): Promise<void> {
    for (const server of [this.server, this.socketServer]) {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.socketDir) rmSync(this.socketDir, { recursive: true, force: true });
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private refuse(res: ServerResponse, provider: Provider | null, status: number, message: string): void {
    const body = provider ? provider.errorBody(status, message) : { error: { message, type: "invalid_request_error", param: null, code: "graphbox_gateway" } };
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeOf(req.url ?? "/");
    if (!route) return this.refuse(res, null, 404, `graphbox gateway: no provider at ${req.url}; use /openai/v1/... or /anthropic/v1/...`);
    const provider = this.providers[route.provider];
    const path = route.rest.split("?")[0]!;
    if (!provider.paths.test(path)) return this.refuse(res, provider, 404, `graphbox gateway: ${provider.name} ${path} is not forwarded`);

    const account = this.accounts.find(credentialOf(req));
    if (!account) return this.refuse(res, provider, 401, "graphbox gateway: this call carries no live execution credential");
    if (!provider.key) {
      return this.refuse(res, provider, 401, `graphbox gateway: the engine has no ${provider.keyVariable} configured; set it in the engine's environment`);
    }
    if (account.exceeded) {
      return this.refuse(res, provider, 403, `graphbox gateway: the execution's token budget of ${String(account.budget)} tokens is used up`);
    }

    let body = (await readBody(req)) ?? null;
    if (body === null) return this.refuse(res, provider, 413, "graphbox gateway: request body too large");
    let requestModel = "unknown";
    let stream = false;
    if (body.length > 0 && String(req.headers["content-type"] ?? "").includes("json")) {
      let parsed: Record<string, unknown> | null = null;
      try {
        const value: unknown = JSON.parse(body.toString("utf8"));
        parsed = typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
      } catch {
        parsed = null;
      }
      if (parsed) {
        if (typeof parsed["model"] === "string") requestModel = parsed["model"];
        stream = parsed["stream"] === true;
        if (!allowed(requestModel, this.options.modelAllowlist)) {
          return this.refuse(res, provider, 403, `graphbox gateway: model ${requestModel} is not in this engine's allowlist`);
        }
        // Count streamed OpenAI chat usage: it is only sent when asked for.
        if (provider.name === "openai" && path === "/chat/completions" && parsed["stream"] === true) {
          const streamOptions = (parsed["stream_options"] ?? {}) as Record<string, unknown>;
          if (streamOptions["include_usage"] !== true) {
            parsed["stream_options"] = { ...streamOptions, include_usage: true };
            body = Buffer.from(JSON.stringify(parsed), "utf8");
          }
        }
      }
    }
    this.forward(req, res, provider, route.rest, body, requestModel, account, stream);
  }

  private forward(req: IncomingMessage, res: ServerResponse, provider: Provider, rest: string, body: Buffer, requestModel: string, account: ExecutionAccount, stream: boolean): void {
    const startedAt = Date.now();
    const started = performance.now();
    let firstByteMs: number | null = null;
    const node = account.currentNode();
    const report = (status: number, model: string, usage: { input_tokens: number; output_tokens: number } | null): void => {
      this.options.onCall?.({
        executionId: account.executionId,
        provider: provider.name,
        operation: rest.split("?")[0]!,
        model,
        stream,
        status,
        inputTokens: usage?.input_tokens ?? 0,
        outputTokens: usage?.output_tokens ?? 0,
        node,
        startedAt,
        durationMs: performance.now() - started,
        firstByteMs,
      });
    };
    const target = new URL(provider.baseUrl + rest);
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !DROPPED_REQUEST_HEADERS.has(name)) headers[name] = value;
    }
    Object.assign(headers, provider.authHeaders(provider.key!), { "content-length": String(body.length) });

    const send = target.protocol === "https:" ? httpsRequest : httpRequest;
    const upstream = send(target, { method: req.method, headers, agent: target.protocol === "https:" ? this.agents.https : this.agents.http });
    const timer = setTimeout(() => upstream.destroy(new Error("upstream timeout")), this.options.upstreamTimeoutMs);
    let answered = false;

    upstream.on("response", (answer) => {
      clearTimeout(timer);
      answered = true;
      const responseHeaders: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) responseHeaders[name] = value;
      }
      res.writeHead(answer.statusCode ?? 502, responseHeaders);
      res.flushHeaders();
      const streaming = String(answer.headers["content-type"] ?? "").includes("text/event-stream");
      const tap = streaming ? new StreamUsageTap() : null;
      const kept: Buffer[] = [];
      let keptBytes = 0;
      answer.on("data", (chunk: Buffer) => {
        firstByteMs ??= performance.now() - started;
        // Pass each chunk on as it arrives: the first token must not wait for the last.
        res.write(chunk);
        if (tap) tap.push(chunk);
        else if (keptBytes + chunk.length <= MAX_ANSWER_BYTES_READ) {
          kept.push(chunk);
          keptBytes += chunk.length;
        }
      });
      answer.on("end", () => {
        res.end();
        if ((answer.statusCode ?? 500) >= 400) {
          report(answer.statusCode ?? 500, requestModel, null);
          return;
        }
        let usage = tap?.result() ?? null;
        let model = requestModel;
        if (!tap) {
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(kept).toString("utf8"));
            usage = usageOfBody(parsed);
            const answeredModel = (parsed as Record<string, unknown>)["model"];
            if (typeof answeredModel === "string") model = answeredModel;
          } catch {
            usage = null;
          }
        }
        if (usage) account.charge({ model, input_tokens: usage.input_tokens, output_tokens: usage.output_tokens, total_tokens: usage.input_tokens + usage.output_tokens });
        report(answer.statusCode ?? 200, model, usage);
      });
      answer.on("error", () => res.destroy());
    });
    upstream.on("error", (err) => {
      clearTimeout(timer);
      if (answered) {
        res.destroy();
        return;
      }
      const timedOut = err.message === "upstream timeout";
      report(0, requestModel, null);
      this.refuse(res, provider, timedOut ? 504 : 502, `graphbox gateway: upstream ${provider.name} ${timedOut ? "did not answer in time" : `unreachable (${err.message})`}`);
    });
    // A program that hangs up stops the upstream call too.
    res.on("close", () => {
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.end(body);
  }
}
