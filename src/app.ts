/**
 * The composition root: config → store → gateway → sandbox supply → engine → http, each part handed the ones
 * below it. Builds the app without listening (server.ts listens; tests build apps freely).
 */
import type { FastifyBaseLogger, FastifyInstance } from "fastify";

import type { Config } from "./config/index.ts";
import { Admission } from "./engine/admission.ts";
import { Engine } from "./engine/engine.ts";
import { EgressProxy } from "./egress/proxy.ts";
import { Gateway, type ForwardProxy } from "./gateway/gateway.ts";
import { buildApi, type RouteEntry } from "./http/api.ts";
import { executionLog } from "./observability/log.ts";
import { Metrics } from "./observability/metrics.ts";
import { Observers } from "./observability/observer.ts";
import { Tracing } from "./observability/tracing.ts";
import { openPostgresStore, openSqliteStore } from "./store/index.ts";
import type { Store } from "./store/types.ts";
import { createSandboxSupply } from "./supply/index.ts";

export interface AppOptions {
  /** A pino logger; without one the app logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /** The store; default: PostgreSQL at config.databaseUrl when set, else SQLite in config.dataDir. */
  store?: Store;
}

export interface GraphboxApp {
  server: FastifyInstance;
  engine: Engine;
  store: Store;
  admission: Admission;
  /** Every route registered, for the docs test. */
  routes: RouteEntry[];
  /**
   * Graceful stop: new requests get 503, running executions get `graceMs` to finish, the rest
   * are cancelled (error_type cancelled, their streams ended), then logs, metrics and traces are
   * flushed and the store closed.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** PostgreSQL when a database URL is set (migrated at open), else the embedded SQLite. */
async function openStore(config: Readonly<Config>, logger: FastifyBaseLogger | undefined): Promise<Store> {
  if (config.databaseUrl === null) return openSqliteStore({ dataDir: config.dataDir });
  return openPostgresStore({
    url: config.databaseUrl,
    poolSize: config.databasePoolSize,
    onListenerError: (err, retryInMs) =>
      logger?.warn({ err, retry_in_ms: retryInMs }, "the PostgreSQL listener connection failed; reconnecting"),
  });
}

export async function buildApp(config: Readonly<Config>, options: AppOptions = {}): Promise<GraphboxApp> {
  const store = options.store ?? (await openStore(config, options.logger));
  const observers = new Observers();
  if (options.logger) observers.add(executionLog(options.logger));
  const admission = new Admission(config);
  // Read at scrape time, once the supply (below) exists.
  const metrics = new Metrics(
    { inFlight: () => admission.inFlight, queued: () => admission.queued },
    () => supply.report().pools.map(({ runtime, waiting, hits, misses }) => ({ runtime, waiting, hits, misses })),
    () => ({ pool: store.poolStats(), ...engine.peers.report() }),
  );
  observers.add(metrics);
  const tracing = config.tracing
    ? new Tracing({
        ...config.tracing,
        onExportError: (err) => options.logger?.warn({ err }, "could not export traces"),
      })
    : null;
  if (tracing) observers.add(tracing);
  const egress = createEgressProxy(config, observers);
  const gateway = new Gateway(config, {
    modelAllowlist: config.modelAllowlist,
    upstreamTimeoutMs: config.upstreamTimeoutMs,
    onCall: (call) => observers.llmCall(call),
    ...(egress ? { forwardProxy: forwardingTo(egress) } : {}),
  });
  const supply = createSandboxSupply({ config, gateway });
  const engine = new Engine({ config, store, gateway, ...(egress ? { egress } : {}), supply, admission, observers });
  const api = await buildApi({ config, engine, store, metrics, ...(options.logger ? { logger: options.logger } : {}) });
  const { server } = api;

  server.addHook("onReady", async () => engine.start());
  // The engine's own API is never a destination, whatever the egress lists say.
  if (egress)
    server.addHook("onListen", async () => {
      const address = server.server.address();
      if (address && typeof address === "object") egress.refusePorts([address.port]);
    });
  server.addHook("onClose", async () => {
    await engine.destroy();
    // Sends the spans still buffered and stops the exporter.
    await tracing?.close();
    if (!options.store) await store.close();
  });
  const shutdown = async (graceMs: number): Promise<void> => {
    api.drain();
    admission.close();
    const finished = await Promise.race([
      engine.close().then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref()),
    ]);
    if (!finished) await engine.destroy("the engine is shutting down");
    await observers.flush();
    await server.close();
  };
  return { server, engine, store, admission, routes: api.routes, shutdown };
}

/** The egress proxy when the operator opened egress (GRAPHBOX_EGRESS_ALLOW); none otherwise, and the gateway answers as it always did. */
function createEgressProxy(config: Readonly<Config>, observers: Observers): EgressProxy | null {
  if (config.egress.allow.length === 0) return null;
  const proxy = new EgressProxy(config, { onConnection: (connection) => observers.egressConnection(connection) });
  if (config.port !== 0) proxy.refusePorts([config.port]);
  return proxy;
}

/** The gateway's listeners hand the proxy what is not theirs: absolute-form targets and CONNECT. */
function forwardingTo(proxy: EgressProxy): ForwardProxy {
  return {
    request: (req, res) => proxy.handleRequest(req, res),
    connect: (req, socket, head) => proxy.handleConnect(req, socket, head),
  };
}
