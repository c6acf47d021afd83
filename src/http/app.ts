/** Builds the HTTP server (without listening): routes, validation, error envelopes. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";

import type { Config } from "../config/index.ts";
import { Admission } from "../engine/admission.ts";
import { Engine } from "../engine/engine.ts";
import { GraphboxError } from "../contract/errors.ts";
import { Gateway } from "../gateway/gateway.ts";
import { executionLog } from "../observability/log.ts";
import { Metrics } from "../observability/metrics.ts";
import { Observers } from "../observability/observer.ts";
import { Tracing } from "../observability/tracing.ts";
import { openSqliteStore } from "../store/index.ts";
import type { Store } from "../store/types.ts";
import { createSandboxSupply, type SupplyReport } from "../supply/index.ts";
import { Authenticator } from "./auth.ts";
import { installErrorHandlers } from "./errors.ts";
import { ANY, described, errorResponses, oneOf, registerOpenApi } from "./openapi.ts";
import { executeRoutes } from "./routes/execute.ts";
import { recordRoutes } from "./routes/records.ts";

export interface AppOptions {
  /** A pino logger; without one the app logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /** The store; default: SQLite in config.dataDir. */
  store?: Store;
}

export interface GraphboxApp {
  server: FastifyInstance;
  engine: Engine;
  store: Store;
  admission: Admission;
  /** Every route registered, for the docs test. */
  routes: { method: string; url: string; hidden: boolean }[];
  /**
   * Graceful stop: new requests get 503, running executions get `graceMs` to finish, the rest
   * are cancelled (error_type cancelled, their streams ended), then logs, metrics and traces are
   * flushed and the store closed.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Routes that keep answering while the engine drains. */
const DRAINING_ROUTES = new Set(["/health", "/ready", "/metrics"]);

export async function buildApp(config: Readonly<Config>, options: AppOptions = {}): Promise<GraphboxApp> {
  const store = options.store ?? (await openSqliteStore({ dataDir: config.dataDir }));
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Types are checked, never coerced: `"code": 123` is an error, not the program "123".
    // Unknown fields are reported, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
    // onReady starts the fork server, whose zygote imports LangGraph (1–2 s, far more on a loaded
    // host): give it the runtime's start-up allowance, not fastify's 10 s plugin default.
    pluginTimeout: config.startupTimeoutMs * 2,
  });
  const routes: GraphboxApp["routes"] = [];
  server.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true || route.url.startsWith("/docs");
    for (const method of methods) routes.push({ method, url: route.url, hidden });
  });
  const observers = new Observers();
  if (options.logger) observers.add(executionLog(options.logger));
  // Read at scrape time, once admission (below) exists.
  const metrics = new Metrics({ inFlight: () => admission.inFlight, queued: () => admission.queued }, () =>
    supply.report().pools.map(({ runtime, waiting, hits, misses }) => ({ runtime, waiting, hits, misses })),
  );
  observers.add(metrics);
  const tracing = config.tracing.endpoint
    ? new Tracing({ ...config.tracing, endpoint: config.tracing.endpoint, onExportError: (err) => options.logger?.warn({ err }, "could not export traces") })
    : null;
  if (tracing) observers.add(tracing);
  const gateway = new Gateway(config, { modelAllowlist: config.modelAllowlist, upstreamTimeoutMs: config.upstreamTimeoutMs, onCall: (call) => observers.llmCall(call) });
  const supply = createSandboxSupply({ config, gateway });
  const engine = new Engine({ config, store, gateway, supply, observers });
  const admission = new Admission(config);
  installErrorHandlers(server);
  new Authenticator(config.apiKeys).install(server);
  let draining = false;
  server.addHook("onRequest", async (request) => {
    if (draining && !DRAINING_ROUTES.has(request.url.split("?")[0]!)) {
      throw new GraphboxError("GBX_ERR_SHUTTING_DOWN", "the engine is shutting down and takes no new requests", { retryAfterSeconds: 5 });
    }
  });
  await registerOpenApi(server);
  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  server.removeContentTypeParser("text/plain");

  // Only /health is public: with API keys, /ready and /metrics answer 401 like any other route.
  const operationsErrors = errorResponses(["GBX_ERR_UNAUTHENTICATED", "GBX_ERR_INTERNAL"]);
  executeRoutes(server, engine, admission, config);
  recordRoutes(server, engine, store, config);
  server.get("/health", { schema: { tags: ["operations"], summary: "Liveness (no auth)", security: [], response: described("{status: ok}", { status: oneOf("ok") }) } }, async () => ({ status: "ok" }));
  server.get("/ready", { schema: { tags: ["operations"], summary: "Readiness: runtimes, sandbox protections in force, store", response: { ...described("{status, runtimes, store, in_flight, sandbox}", { status: oneOf("ready"), sandbox: ANY }), ...operationsErrors } } }, async () => ({
    status: "ready",
    runtimes: { python: { python: config.pythonPath } },
    store: store.backend,
    in_flight: engine.inFlight,
    sandbox: await supply.protections(),
    warm_start: warmStart(supply.report()),
  }));
  server.get(
    "/metrics",
    { schema: { tags: ["operations"], summary: "Prometheus metrics (text exposition format)", response: { 200: { description: "graphbox_* metrics, process_* and nodejs_*", content: { "text/plain": { schema: { type: "string" } } } }, ...operationsErrors } } },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );

  server.addHook("onReady", async () => engine.start());
  server.addHook("onClose", async () => {
    await engine.destroy();
    // Sends the spans still buffered and stops the exporter.
    await tracing?.close();
    if (!options.store) await store.close();
  });
  const shutdown = async (graceMs: number): Promise<void> => {
    draining = true;
    admission.close();
    const finished = await Promise.race([engine.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), graceMs).unref())]);
    if (!finished) await engine.destroy("the engine is shutting down");
    await observers.flush();
    await server.close();
  };
  return { server, engine, store, admission, routes, shutdown };
}

/** /ready's `warm_start`: the zygote, the pools, their memory budget, how often runtime files changed. */
function warmStart(report: SupplyReport): Record<string, unknown> {
  const forkServer = report.pythonForkServer;
  return {
    python_fork_server: forkServer.state === "warm" ? { state: "warm", ...forkServer.zygote } : { state: "off", reason: forkServer.reason },
    pools: Object.fromEntries(report.pools.map((p) => [p.runtime, { waiting: p.waiting, ready: p.ready, hits: p.hits, misses: p.misses, memory_mb: Math.round(p.memoryBytes / 2 ** 20) }])),
    pool_memory_budget_mb: Math.round(report.poolMemoryBudgetBytes / 2 ** 20),
    runtime_file_changes: report.runtimeFileChanges,
  };
}
