/** Builds the HTTP server (without listening): routes, validation, error envelopes. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";

import type { Config } from "../config/index.ts";
import { Engine } from "../engine/engine.ts";
import { openSqliteStore } from "../store/index.ts";
import type { Store } from "../store/types.ts";
import { installErrorHandlers } from "./errors.ts";
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
}

export async function buildApp(config: Readonly<Config>, options: AppOptions = {}): Promise<GraphboxApp> {
  const store = options.store ?? (await openSqliteStore({ dataDir: config.dataDir }));
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Types are checked, never coerced: `"code": 123` is an error, not the program "123".
    // Unknown fields are reported, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
  });
  const engine = new Engine(config, store);
  installErrorHandlers(server);
  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  server.removeContentTypeParser("text/plain");

  executeRoutes(server, engine, config);
  recordRoutes(server, engine, store, config);
  server.get("/health", async () => ({ status: "ok" }));
  server.get("/ready", async () => ({
    status: "ready",
    runtimes: { python: { python: config.pythonPath } },
    store: store.backend,
    in_flight: engine.inFlight,
  }));

  server.addHook("onReady", async () => engine.start());
  server.addHook("onClose", async () => {
    await engine.destroy();
    if (!options.store) await store.close();
  });
  return { server, engine, store };
}
