/**
 * The HTTP server, without listening: validation, error envelopes, authentication, the drain, and
 * one plugin per resource. It holds no policy of its own: admission and every limit are the engine's.
 */
import cors, { type FastifyCorsOptions } from "@fastify/cors";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyPluginAsync } from "fastify";

import { resolveAssistant } from "../agent/assistants.ts";
import { Runs } from "../agent/runs.ts";
import type { Config } from "../config/index.ts";
import { GraphboxError } from "../contract/errors.ts";
import type { Engine } from "../engine/engine.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Store } from "../store/types.ts";
import { Authenticator } from "./auth.ts";
import { installErrorHandlers } from "./errors.ts";
import { registerOpenApi } from "./openapi.ts";
import { agentThreadRoutes } from "./routes/agent-threads.ts";
import { assistantRoutes } from "./routes/assistants.ts";
import { docsRoutes } from "./routes/docs.ts";
import { executeRoutes } from "./routes/execute.ts";
import { executionRoutes } from "./routes/executions.ts";
import { graphRoutes } from "./routes/graphs.ts";
import { infoRoutes } from "./routes/info.ts";
import { OPERATIONS_PATHS, operationsRoutes } from "./routes/operations.ts";
import { playgroundRoutes } from "./routes/playground.ts";
import { storeRoutes } from "./routes/store.ts";
import { runRoutes } from "./routes/runs.ts";
import { threadRoutes } from "./routes/threads.ts";

/**
 * Where the API's resources answer: at the root, and under /api for a proxy that routes /api to
 * the engine. Operations and docs answer at the root only.
 */
const API_PREFIXES = ["", "/api"] as const;

/** CORS for the configured origins, exposing the headers LangGraph's clients read (useStream takes the run id from Content-Location). */
function corsOptions(origins: string[]): FastifyCorsOptions {
  return {
    origin: origins.includes("*") ? "*" : origins,
    methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
    allowedHeaders: ["authorization", "x-api-key", "content-type", "last-event-id"],
    exposedHeaders: ["content-location", "x-pagination-total", "x-pagination-next", "retry-after"],
    maxAge: 600,
  };
}

export interface ApiParts {
  config: Readonly<Config>;
  engine: Engine;
  store: Store;
  metrics: Metrics;
  /** A pino logger; without one the server logs nothing (tests). */
  logger?: FastifyBaseLogger;
}

export interface RouteEntry {
  method: string;
  url: string;
  /** Left out of /openapi.json (the docs' own routes). */
  hidden: boolean;
}

export interface Api {
  server: FastifyInstance;
  /** Every route registered, for the docs test. */
  routes: RouteEntry[];
  /** From now on every request but the operations' answers 503 (the engine is shutting down). */
  drain(): void;
}

export async function buildApi({ config, engine, store, metrics, logger }: ApiParts): Promise<Api> {
  const server = Fastify({
    ...(logger ? { loggerInstance: logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Past find-my-way's 100, a path parameter is a bare 414 that no error handler sees; the
    // routes' schemas bound their ids (a thread's 256, a graph's 128) and answer the envelope.
    routerOptions: { maxParamLength: 1024 },
    // Types are checked, never coerced: `"code": 123` is an error, not the program "123".
    // Unknown fields are reported, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
    // onReady starts the fork server, whose zygote imports LangGraph (1–2 s, far more on a loaded
    // host): give it the runtime's start-up allowance, not fastify's 10 s plugin default.
    pluginTimeout: config.startupTimeoutMs * 2,
  });
  const routes: RouteEntry[] = [];
  server.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const hidden = (route.schema as { hide?: boolean } | undefined)?.hide === true || route.url.startsWith("/docs");
    for (const method of methods) routes.push({ method, url: route.url, hidden });
  });
  installErrorHandlers(server);
  // Before the key check: a browser's preflight carries no key.
  if (config.corsOrigins.length > 0) await server.register(cors, corsOptions(config.corsOrigins));
  new Authenticator(config.apiKeys).install(server);
  let draining = false;
  server.addHook("onRequest", async (request) => {
    if (draining && !OPERATIONS_PATHS.has(request.url.split("?")[0]!)) {
      throw new GraphboxError("GBX_ERR_SHUTTING_DOWN", "the engine is shutting down and takes no new requests", {
        retryAfterSeconds: 5,
      });
    }
  });
  await registerOpenApi(server);
  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  server.removeContentTypeParser("text/plain");

  // One for the server: both prefixes share the threads' queues of runs.
  const runs = new Runs({
    engine,
    store,
    config,
    resolveAssistant: (owner, id) => resolveAssistant(store, owner, id),
  });
  // Runs queued for any engine on the database are taken once this engine has its lease.
  server.addHook("onReady", async () => {
    await engine.start();
    runs.startDispatching();
  });
  server.addHook("onClose", async () => runs.stopDispatching());
  const resources: FastifyPluginAsync = async (api) => {
    await api.register(executeRoutes, { engine, config });
    await api.register(threadRoutes, { store });
    await api.register(agentThreadRoutes, { engine });
    await api.register(executionRoutes, { engine, store, config });
    await api.register(storeRoutes, { store, config });
    await api.register(graphRoutes, { engine, store, config });
    await api.register(assistantRoutes, { engine, store, config });
    await api.register(infoRoutes);
    await api.register(runRoutes, { runs, store, config });
  };
  for (const prefix of API_PREFIXES) await server.register(resources, { prefix });
  await server.register(operationsRoutes, { config, engine, store, metrics });
  await server.register(docsRoutes);
  await server.register(playgroundRoutes);
  return {
    server,
    routes,
    drain: () => {
      draining = true;
      // Queued runs stay in the queue for the engines that go on.
      runs.stopDispatching();
    },
  };
}
