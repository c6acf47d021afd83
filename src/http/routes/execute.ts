/** POST /execute-langgraph and its streaming twin. */
import type { FastifyInstance } from "fastify";

import type { Config } from "../../config/index.ts";
import { statusOf, type Engine } from "../../engine/engine.ts";
import { ownerOf } from "../owner.ts";
import { toExecutionRequest } from "../request.ts";
import { executeBodySchema, type ExecuteBody } from "../schemas.ts";
import { SseStream } from "../sse.ts";

export function executeRoutes(server: FastifyInstance, engine: Engine, config: Readonly<Config>): void {
  for (const prefix of ["", "/api"]) {
    server.post<{ Body: ExecuteBody }>(`${prefix}/execute-langgraph`, { schema: { body: executeBodySchema } }, async (request, reply) => {
      const outcome = await engine.execute(toExecutionRequest(request.body, config, false), ownerOf(request));
      return reply.status(statusOf(outcome)).send(outcome);
    });

    server.post<{ Body: ExecuteBody }>(`${prefix}/execute-langgraph/stream`, { schema: { body: executeBodySchema } }, async (request, reply) => {
      const gone = new AbortController();
      let stream: SseStream | null = null;
      // The stream opens with the first event: a request refused before it starts (thread busy,
      // bad breakpoint) still gets a plain JSON error with its HTTP status.
      const open = (): SseStream => {
        if (!stream) {
          reply.hijack();
          stream = new SseStream(reply.raw, config.sseKeepAliveMs, () => gone.abort());
        }
        return stream;
      };
      await engine.execute(toExecutionRequest(request.body, config, true), ownerOf(request), {
        signal: gone.signal,
        onEvent: (event) => open().send(event),
      });
      open().end();
    });
  }
}
