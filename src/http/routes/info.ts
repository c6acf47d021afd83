/**
 * `GET /info` and `GET /ok`, as LangGraph's servers answer them (chat UIs call /info to check a
 * server). Both need the API key like every route but /health: LangGraph's JS server leaves /info
 * open, but the clients that call it send their key anyway, and /health already answers liveness.
 */
import type { FastifyPluginAsync } from "fastify";

import { serverInfo } from "../../agent/info.ts";
import { speaksLangGraph } from "../langgraph.ts";
import { ANY, COMMON_ERRORS, described, errorResponses } from "../openapi.ts";

const errors = errorResponses([...COMMON_ERRORS]);

export const infoRoutes: FastifyPluginAsync = async (app) => {
  speaksLangGraph(app);
  app.get(
    "/info",
    {
      schema: {
        tags: ["agent"],
        summary: "The server's version, its LangGraph's, and its features (LangGraph's `/info`)",
        response: {
          // Every field named: the serializer writes them in this order, the reference's.
          ...described("{version, langgraph_js_version, context, langgraph_py_version, flags}", {
            version: ANY,
            langgraph_js_version: ANY,
            context: ANY,
            langgraph_py_version: ANY,
            flags: ANY,
          }),
          ...errors,
        },
      },
    },
    async () => serverInfo(),
  );
  app.get(
    "/ok",
    {
      schema: {
        tags: ["agent"],
        summary: "LangGraph's liveness check: {ok: true}",
        response: { ...described("{ok: true}", { ok: { type: "boolean", enum: [true] } }), ...errors },
      },
    },
    async () => ({ ok: true }),
  );
};
