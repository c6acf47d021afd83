/** Builds the HTTP server (without listening): routes, validation, error envelopes. */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";

import type { Config } from "../config/index.ts";
import { Engine } from "../engine/engine.ts";
import { ERRORS } from "../errors.ts";
import { installErrorHandlers } from "./errors.ts";
import { toExecutionRequest } from "./request.ts";
import { executeBodySchema, type ExecuteBody } from "./schemas.ts";

export interface AppOptions {
  /** A pino logger; without one the app logs nothing (tests). */
  logger?: FastifyBaseLogger;
}

export interface GraphboxApp {
  server: FastifyInstance;
  engine: Engine;
}

export function buildApp(config: Readonly<Config>, options: AppOptions = {}): GraphboxApp {
  const server = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: config.bodyLimitBytes,
    // Types are checked, never coerced: `"code": 123` is an error, not the program "123".
    // Unknown fields are reported, not silently dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    genReqId: () => crypto.randomUUID(),
  });
  const engine = new Engine(config);
  installErrorHandlers(server);
  // JSON only: a text/plain body is a 415, not a string that fails the schema.
  server.removeContentTypeParser("text/plain");

  const execute = async (body: ExecuteBody) => {
    const outcome = await engine.execute(toExecutionRequest(body, config, false));
    return { status: outcome.status === "error" ? ERRORS[outcome.code].status : 200, outcome };
  };
  for (const path of ["/execute-langgraph", "/api/execute-langgraph"]) {
    server.post<{ Body: ExecuteBody }>(path, { schema: { body: executeBodySchema } }, async (request, reply) => {
      const { status, outcome } = await execute(request.body);
      return reply.status(status).send(outcome);
    });
  }

  server.get("/health", async () => ({ status: "ok" }));
  server.get("/ready", async () => ({ status: "ready", runtimes: { python: { python: config.pythonPath } }, in_flight: engine.inFlight }));

  server.addHook("onClose", async () => engine.destroy());
  return { server, engine };
}
