/**
 * The egress proxy: the only route out of a sandbox besides the LLM gateway, and only when the
 * operator opened one (GRAPHBOX_EGRESS_ALLOW). It speaks the two forms every HTTP client's proxy
 * support uses: plain HTTP in absolute form (`GET http://host/path`), forwarded as a new request
 * to the checked address, and `CONNECT host:port`, a byte tunnel (TLS passes through it untouched:
 * no interception, no certificate of ours).
 *
 * It is reached the way the gateway is: the gateway's listeners (its Unix socket bound into every
 * sandbox, its loopback port) hand it every request that is not the gateway's own, so programs
 * find it at HTTP_PROXY=http://gbx:<credential>@127.0.0.1:<gateway port>. The credential names
 * the execution; its policy, limits and tallies live in its account (account.ts). A refusal is
 * an HTTP 403 (or 400, 407, 429, 502) whose body names the rule that refused it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

import type { Config } from "../config/index.ts";
import type { EgressConnectionInfo } from "../observability/observer.ts";
import { EgressAccount, type EgressLimits } from "./account.ts";
import { EgressPolicy, type PolicyLayer } from "./policy.ts";
import { openTunnel } from "./tunnel.ts";
import { forward } from "./forward.ts";
import { rawAnswer } from "./relay.ts";
import { decide, splitAuthority, systemResolver, type Decision, type Resolver } from "./target.ts";

const MAX_TARGET_CHARS = 8192;

export interface EgressProxyOptions {
  /** Told of each connection and refusal when it ends (metrics, traces, logs). */
  onConnection?: (info: EgressConnectionInfo) => void;
  /** Name resolution (default: the system's, /etc/hosts included). */
  resolve?: Resolver;
}

export interface OpenOptions {
  /** The API key's name: its egress list, if the keys file gives one, narrows the engine's. */
  owner: string;
  /** The request's config.egress, if any: narrows further. */
  requested: readonly EgressPolicyInput[] | null;
  /** Ends the execution (its bytes went over a limit). */
  onLimit: (message: string) => void;
}

type EgressPolicyInput = PolicyLayer["patterns"][number];

export class EgressProxy {
  private readonly accounts = new Map<string, EgressAccount>();
  private readonly limits: EgressLimits;
  private readonly resolve: Resolver;
  private readonly ownPorts = new Set<number>();
  private gatewayPort = 0;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly options: EgressProxyOptions = {},
  ) {
    const e = config.egress;
    this.limits = {
      connections: e.executionConnections,
      bytesIn: e.executionBytesIn,
      bytesOut: e.executionBytesOut,
      connectionTimeoutMs: e.connectionTimeoutMs,
    };
    this.resolve = options.resolve ?? systemResolver;
  }

  /** True when the operator opened egress at all (GRAPHBOX_EGRESS_ALLOW is not empty). */
  get enabled(): boolean {
    return this.config.egress.allow.length > 0;
  }

  /** The gateway's loopback port (inside a sandbox, 127.0.0.1:<it> is the gateway: passed through, not metered). */
  setGatewayPort(port: number): void {
    this.gatewayPort = port;
  }

  /** The engine's own ports (its API), never reachable through the proxy on this host's addresses. */
  refusePorts(ports: readonly number[]): void {
    for (const port of ports) this.ownPorts.add(port);
  }

  /** The execution's account, or null when it gets no egress (no list, or a list that narrows to nothing). */
  open(executionId: string, options: OpenOptions): EgressAccount | null {
    if (!this.enabled) return null;
    const layers: PolicyLayer[] = [
      { rule: "engine_list", source: "GRAPHBOX_EGRESS_ALLOW", patterns: this.config.egress.allow },
    ];
    const keyList = this.config.egress.keyAllow.get(options.owner);
    if (keyList)
      layers.push({ rule: "key_list", source: `the API key ${options.owner}'s egress list`, patterns: keyList });
    if (options.requested) layers.push({ rule: "request_list", source: "config.egress", patterns: options.requested });
    const policy = new EgressPolicy(layers);
    if (policy.closed) return null;
    const account = new EgressAccount(executionId, { policy, limits: this.limits, onLimit: options.onLimit });
    this.accounts.set(account.credential, account);
    return account;
  }

  /** The execution ended: its credential dies and whatever it still has open is cut. */
  release(account: EgressAccount): void {
    account.released = true;
    this.accounts.delete(account.credential);
    for (const connection of account.connections) connection.destroy();
  }

  /** Cuts every connection (the engine stops). */
  close(): void {
    for (const account of [...this.accounts.values()]) this.release(account);
  }

  /** The proxy URL a program gets (userinfo: the credential, which clients send as Proxy-Authorization). */
  proxyUrl(account: EgressAccount, gatewayUrl: string): string {
    const url = new URL(gatewayUrl);
    url.username = "gbx";
    url.password = account.credential;
    return url.href.replace(/\/$/, "");
  }

  private accountOf(req: IncomingMessage): EgressAccount | null {
    const header = req.headers["proxy-authorization"];
    const match = typeof header === "string" ? /^Basic\s+([A-Za-z0-9+/=]{1,512})$/i.exec(header) : null;
    if (!match) return null;
    const decoded = Buffer.from(match[1]!, "base64").toString("utf8");
    const account = this.accounts.get(decoded.slice(decoded.indexOf(":") + 1));
    return account && !account.released ? account : null;
  }

  /** A `CONNECT host:port`: a tunnel to the checked address, or a refusal written on the socket. */
  handleConnect(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const startedAt = Date.now();
    const account = this.accountOf(req);
    const authority = splitAuthority(req.url ?? "");
    const info = this.info(account, "tunnel", startedAt);
    client.on("error", () => client.destroy());
    const refuseRaw = (status: number, message: string, extra = ""): void => {
      client.end(rawAnswer(status, message, extra));
    };
    if (!account) {
      this.report({ ...info, refusedBy: "unauthenticated", reason: NO_CREDENTIAL, status: 407 });
      return refuseRaw(407, NO_CREDENTIAL, 'proxy-authenticate: Basic realm="graphbox egress"\r\n');
    }
    if (!authority) {
      const message = "graphbox egress: CONNECT needs `host:port`";
      this.report({ ...info, refusedBy: "invalid_target", reason: message, status: 400 });
      return refuseRaw(400, message);
    }
    this.decideFor(account, { ...authority, method: "CONNECT" }).then(
      (decision) => {
        if (!decision.ok) {
          this.refused(account, decision, info);
          return refuseRaw(decision.status, decision.message);
        }
        openTunnel({
          account,
          client,
          head,
          decision,
          info: { ...info, host: decision.label, port: decision.port },
          report: (connection) => this.report(connection),
        });
      },
      () => client.destroy(),
    );
  }

  /** An absolute-form `GET http://host/path`: forwarded to the checked address, the answer streamed back. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void {
    const startedAt = Date.now();
    const account = this.accountOf(req);
    const info = this.info(account, "http", startedAt);
    const refuse = (status: number, message: string, headers: Record<string, string> = {}): void => {
      req.resume();
      if (!res.headersSent)
        res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close", ...headers });
      res.end(`${message}\n`);
    };
    if (!account) {
      this.report({ ...info, refusedBy: "unauthenticated", reason: NO_CREDENTIAL, status: 407 });
      return refuse(407, NO_CREDENTIAL, { "proxy-authenticate": 'Basic realm="graphbox egress"' });
    }
    let url: URL | null = null;
    try {
      if ((req.url ?? "").length <= MAX_TARGET_CHARS) url = new URL(req.url ?? "");
    } catch {
      url = null;
    }
    if (!url || url.protocol !== "http:" || url.username !== "" || url.password !== "") {
      const message =
        "graphbox egress: only `http://host/...` targets are forwarded in absolute form (HTTPS goes through CONNECT)";
      this.report({ ...info, refusedBy: "invalid_target", reason: message, status: 400 });
      return refuse(400, message);
    }
    const port = url.port === "" ? 80 : Number(url.port);
    const target = { host: url.hostname, port, method: req.method ?? "GET" };
    const path = `${url.pathname}${url.search}`;
    this.decideFor(account, target).then(
      (decision) => {
        if (!decision.ok) {
          this.refused(account, decision, info);
          return refuse(decision.status, decision.message);
        }
        forward({
          account,
          req,
          res,
          path,
          decision,
          info: { ...info, host: decision.label, port },
          report: (connection) => this.report(connection),
        });
      },
      () => refuse(502, "graphbox egress: the target could not be checked"),
    );
  }

  private async decideFor(
    account: EgressAccount,
    target: { host: string; port: number; method: string },
  ): Promise<Decision> {
    const decision = await decide(account, target, {
      gatewayPort: this.gatewayPort,
      ownPorts: this.ownPorts,
      resolve: this.resolve,
    });
    if (!decision.ok || decision.gateway) return decision;
    if (account.exceeded || account.released)
      return {
        ...decision,
        ok: false,
        status: 403,
        rule: "connections",
        message: "graphbox egress: the execution is over",
      };
    if (account.connections.size >= account.limits.connections)
      return {
        ok: false,
        status: 429,
        rule: "connections",
        label: decision.label,
        port: decision.port,
        message: `graphbox egress: ${target.method} ${decision.label}:${decision.port} refused by GRAPHBOX_EGRESS_EXECUTION_CONNECTIONS: this execution already holds ${account.limits.connections} connections; close one`,
      };
    return decision;
  }

  private info(account: EgressAccount | null, kind: "http" | "tunnel", startedAt: number): EgressConnectionInfo {
    return {
      executionId: account?.executionId ?? null,
      host: null,
      port: 0,
      kind,
      refusedBy: null,
      reason: null,
      address: null,
      status: 0,
      bytesIn: 0,
      bytesOut: 0,
      startedAt,
      durationMs: 0,
    };
  }

  private refused(
    account: EgressAccount,
    decision: Extract<Decision, { ok: false }>,
    info: EgressConnectionInfo,
  ): void {
    if (decision.label !== null) account.refusal(decision.label);
    this.report({
      ...info,
      host: decision.label,
      port: decision.port,
      refusedBy: decision.rule,
      reason: decision.message,
      status: decision.status,
    });
  }

  private report(info: EgressConnectionInfo): void {
    try {
      this.options.onConnection?.({ ...info, durationMs: info.durationMs || Date.now() - info.startedAt });
    } catch {
      // An observer's failure must not reach a connection.
    }
  }
}

const NO_CREDENTIAL =
  "graphbox egress: refused by the credential rule: no live execution's credential in Proxy-Authorization; use the HTTP_PROXY the execution was given";
