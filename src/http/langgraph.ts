/**
 * Routes of LangGraph's Agent Server API. Their errors carry Graphbox's envelope and also
 * `detail`, the message under the name LangGraph's servers give it (clients written for them,
 * the Python SDK's callers among them, read `detail`).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";

import type { ErrorEnvelope } from "../contract/errors.ts";

declare module "fastify" {
  interface FastifyContextConfig {
    /** The route is LangGraph's Agent Server API's. */
    langgraph?: boolean;
  }
}

/** Marks every route the plugin `app` registers from now on as the Agent Server API's. */
export function speaksLangGraph(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    route.config = { ...route.config, langgraph: true };
  });
}

/** The error envelope as the route that failed answers it. */
export function envelopeFor(request: FastifyRequest, envelope: ErrorEnvelope): ErrorEnvelope & { detail?: string } {
  return request.routeOptions.config?.langgraph === true ? { ...envelope, detail: envelope.error } : envelope;
}
