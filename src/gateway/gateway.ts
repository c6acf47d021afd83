/**
 * The only way out of a sandbox: an HTTP proxy that speaks the OpenAI and Anthropic APIs,
 * checks the execution's credential, puts the real key on the way out, streams the answer
 * back as it arrives, and charges the usage the provider reported to the execution.
 *
 * It is a narrow door (docs/security.md, "The gateway"): only the calls on each provider's
 * allowlist pass (door.ts), every body is parsed as JSON and metered, a call reserves its share
 * of the token budget while it is in flight (reservation.ts), and what one execution may hold of
 * the engine (bytes, connections, calls, time) is bounded (GRAPHBOX_GATEWAY_*).
 */
import { createServer, Agent as HttpAgent, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";

import type { Config, GatewayLimits } from "../config/index.ts";
import type { LlmCallInfo } from "../observability/observer.ts";
import { AccountRegistry, type AccountOptions, type ExecutionAccount } from "./accounts.ts";
import { parseBody, receiveBody, serialise } from "./body.ts";
import { admit } from "./door.ts";
import { forward } from "./forward.ts";
import { ByteCount, Hold } from "./holdings.ts";
import { providers, type Operation, type Provider } from "./providers.ts";
import { refuse, type Refusal } from "./refusal.ts";
import { estimateOf } from "./reservation.ts";

/** Node's own whole-request timer, a backstop behind the gateway's header and body timers. */
const REQUEST_TIMEOUT_MARGIN_MS = 5_000;
/** What a client told to wait (the budget or buffer held by its calls in flight) is told to wait, in seconds. */
const RETRY_AFTER_SECONDS = "1";

export interface GatewayOptions {
  /** Models a program may call; `*` wildcards allowed. Empty: all. */
  modelAllowlist: string[];
  /** Time allowed for the upstream to start answering. */
  upstreamTimeoutMs: number;
  /** Told of every forwarded call when it ends (metrics, traces). */
  onCall?: (call: LlmCallInfo) => void;
  /**
   * What the same listeners hand on that is not a call to the gateway: absolute-form targets
   * (`GET http://host/...`) and CONNECT (the egress proxy, when the operator opened egress).
   * Without it, those are answered as today: 404 and a closed socket.
   */
  forwardProxy?: ForwardProxy;
}

export interface ForwardProxy {
  request(req: IncomingMessage, res: ServerResponse): void;
  connect(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

function credentialOf(req: IncomingMessage): string | null {
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey !== "") return apiKey;
  const auth = req.headers["authorization"];
  const match = typeof auth === "string" ? /^Bearer\s+(\S+)$/i.exec(auth) : null;
  return match?.[1] ?? null;
}

/** Longest model name a call may carry: real ones are tens of characters. */
const MAX_MODEL_CHARS = 256;

function allowed(model: string, allowlist: string[]): boolean {
  return allowlist.length === 0 || allowlist.some((pattern) => wildcardMatch(pattern, model));
}

/**
 * `*` matches any run of characters. The model name is the program's: matched in O(pattern ×
 * name) steps with no backtracking blow-up, where a regex of several `.*` could take polynomially long.
 */
export function wildcardMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

export class Gateway {
  readonly accounts: AccountRegistry;
  private readonly server: Server;
  /** The same gateway on a Unix socket: the one door a sandbox gets (bound in, no network needed). */
  private readonly socketServer: Server;
  private socketDir: string | null = null;
  private readonly providers: ReturnType<typeof providers>;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  private readonly limits: GatewayLimits;
  /** Bytes held for every execution's calls together. */
  private readonly buffered: ByteCount;
  /** Which execution each connection belongs to: the one whose credential its first request carried. */
  private readonly owners = new WeakMap<Socket, ExecutionAccount>();
  private port = 0;

  constructor(
    config: Readonly<Config>,
    private readonly options: GatewayOptions,
  ) {
    this.providers = providers(config);
    this.limits = config.gatewayLimits;
    this.accounts = new AccountRegistry(this.limits.executionBufferBytes);
    this.buffered = new ByteCount(this.limits.bufferBytes);
    const proxy = options.forwardProxy;
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      if (proxy && !(req.url ?? "/").startsWith("/")) return proxy.request(req, res);
      this.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
        res.end();
      });
    };
    // Streams can be long: these bound receiving a request (headers, then body), never the answer.
    const serverOptions = {
      headersTimeout: this.limits.headersTimeoutMs,
      requestTimeout: this.limits.headersTimeoutMs + this.limits.bodyTimeoutMs + REQUEST_TIMEOUT_MARGIN_MS,
      // Node checks those timers on this period (30 s by default, longer than the timeouts themselves).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(this.limits.headersTimeoutMs / 4))),
    };
    this.server = createServer(serverOptions, handler);
    this.socketServer = createServer(serverOptions, handler);
    if (proxy)
      for (const server of [this.server, this.socketServer])
        server.on("connect", (req: IncomingMessage, socket: Duplex, head: Buffer) => proxy.connect(req, socket, head));
    this.server.maxConnections = this.limits.maxConnections;
    this.socketServer.maxConnections = this.limits.maxConnections;
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

  /** Bytes the gateway holds now for all calls, and the most it ever held. */
  get bufferedBytes(): { held: number; peak: number } {
    return { held: this.buffered.held, peak: this.buffered.peak };
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

  /** Counts the connection against its execution's cap the first time a request on it names the execution. */
  private attach(socket: Socket, account: ExecutionAccount): boolean {
    if (this.owners.has(socket)) return true;
    if (account.connections.size >= this.limits.executionConnections) return false;
    this.owners.set(socket, account);
    account.connections.add(socket);
    socket.once("close", () => account.connections.delete(socket));
    return true;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const admission = admit(req.method ?? "", req.url ?? "/", this.providers);
    if (!admission.ok) {
      const provider = admission.provider ? this.providers[admission.provider] : null;
      return refuse({
        req,
        res,
        provider,
        refusal: {
          status: admission.status,
          message: admission.message,
          headers: admission.allow ? { allow: admission.allow } : {},
        },
      });
    }
    const provider = this.providers[admission.provider];
    const { operation } = admission;
    const account = this.accountFor(req, provider);
    if ("status" in account) return refuse({ req, res, provider, refusal: account });

    // From here the call counts against the execution until its answer is over, however it ends.
    account.callsInFlight += 1;
    const hold = new Hold(account.buffered, this.buffered);
    res.once("close", () => {
      account.callsInFlight -= 1;
      hold.release();
    });

    const request = await this.readRequest({ req, provider, path: admission.path, operation, hold });
    if (request === null) return;
    if ("status" in request) return refuse({ req, res, provider, refusal: request });

    const reservation = account.reserve(
      estimateOf(operation.kind, request.json, request.body.length, this.limits.outputReserveTokens),
    );
    if (reservation === "used_up") {
      return refuse({
        req,
        res,
        provider,
        refusal: {
          status: 403,
          message: `graphbox gateway: the execution's token budget of ${String(account.budget)} tokens is used up`,
        },
      });
    }
    if (reservation === "in_flight") {
      return refuse({
        req,
        res,
        provider,
        refusal: {
          status: 429,
          headers: { "retry-after": RETRY_AFTER_SECONDS },
          message: `graphbox gateway: this call's token estimate does not fit in what the execution's budget of ${String(account.budget)} tokens has left besides its calls in flight; retry when they end`,
        },
      });
    }
    const target = admission.path + (admission.query ? `?${admission.query}` : "");
    forward(
      {
        req,
        res,
        provider,
        operation,
        target,
        body: request.body,
        requestModel: request.model,
        account,
        stream: request.stream,
        reservation,
        hold,
      },
      {
        agents: this.agents,
        upstreamTimeoutMs: this.options.upstreamTimeoutMs,
        ...(this.options.onCall ? { onCall: this.options.onCall } : {}),
      },
    );
  }

  /** The live execution a call belongs to, if it may make one more call now. */
  private accountFor(req: IncomingMessage, provider: Provider): ExecutionAccount | Refusal {
    const account = this.accounts.find(credentialOf(req));
    if (!account) return { status: 401, message: "graphbox gateway: this call carries no live execution credential" };
    if (!this.attach(req.socket, account)) {
      return {
        status: 429,
        close: true,
        headers: { "retry-after": RETRY_AFTER_SECONDS },
        message: `graphbox gateway: this execution already holds ${this.limits.executionConnections} connections to the gateway (GRAPHBOX_GATEWAY_EXECUTION_CONNECTIONS); reuse one`,
      };
    }
    if (!provider.key)
      return {
        status: 401,
        message: `graphbox gateway: the engine has no ${provider.keyVariable} configured; set it in the engine's environment`,
      };
    if (account.exceeded)
      return {
        status: 403,
        message: `graphbox gateway: the execution's token budget of ${String(account.budget)} tokens is used up`,
      };
    if (account.callsInFlight >= this.limits.executionCalls) {
      return {
        status: 429,
        headers: { "retry-after": RETRY_AFTER_SECONDS },
        message: `graphbox gateway: this execution already has ${this.limits.executionCalls} calls in flight (GRAPHBOX_GATEWAY_EXECUTION_CALLS); retry when one ends`,
      };
    }
    return account;
  }

  /**
   * The call's body, received within the limits, parsed, checked against the model allowlist and
   * written again as what will be forwarded; null when the client went away meanwhile.
   */
  private async readRequest({
    req,
    provider,
    path,
    operation,
    hold,
  }: {
    req: IncomingMessage;
    provider: Provider;
    path: string;
    operation: Operation;
    hold: Hold;
  }): Promise<{ json: Record<string, unknown> | null; body: Buffer; model: string; stream: boolean } | Refusal | null> {
    if (operation.method !== "POST") {
      if (hasBody(req))
        return { status: 400, close: true, message: `graphbox gateway: ${operation.method} ${path} carries no body` };
      return { json: null, body: Buffer.alloc(0), model: "unknown", stream: false };
    }
    const received = await receiveBody(
      req,
      hold,
      { maxBytes: this.limits.maxBodyBytes, timeoutMs: this.limits.bodyTimeoutMs },
      this.limits.executionBufferBytes,
    );
    if (!received.ok) {
      if (received.status === 0) return null;
      const wait = received.status === 429 || received.status === 503 ? { "retry-after": RETRY_AFTER_SECONDS } : {};
      // A body cut short leaves the connection mid-request: it cannot carry another call.
      return { status: received.status, message: received.message, headers: wait, close: true };
    }
    const parsed = parseBody(received.body);
    if (!parsed.ok) return parsed;
    const json = parsed.json;
    const model = typeof json["model"] === "string" ? json["model"] : "unknown";
    const stream = json["stream"] === true;
    if (model.length > MAX_MODEL_CHARS)
      return { status: 400, message: `graphbox gateway: the model name is longer than ${MAX_MODEL_CHARS} characters` };
    if (!allowed(model, this.options.modelAllowlist))
      return {
        status: 403,
        message: `graphbox gateway: model ${model.slice(0, 200)} is not in this engine's allowlist`,
      };
    // Count streamed OpenAI usage: it is only sent when asked for.
    if (stream && provider.name === "openai" && (path === "/chat/completions" || path === "/completions")) {
      const options = json["stream_options"];
      if (typeof options === "object" && options !== null && !Array.isArray(options))
        (options as Record<string, unknown>)["include_usage"] = true;
      else json["stream_options"] = { include_usage: true };
    }
    const body = serialise(json);
    if (!Buffer.isBuffer(body)) return body;
    const more = body.length - hold.size;
    if (more > 0 && hold.grow(more)) {
      return {
        status: 429,
        headers: { "retry-after": RETRY_AFTER_SECONDS },
        message: "graphbox gateway: this execution's calls in flight hold all it may buffer; retry when they end",
      };
    }
    return { json, body, model, stream };
  }
}
