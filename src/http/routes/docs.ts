/** The API description: /openapi.json, generated from every route's schema, and a docs page at /docs. */
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyPluginAsync } from "fastify";

/** Serves what @fastify/swagger (registered on the root by openapi.ts) collected. */
export const docsRoutes: FastifyPluginAsync = async (app) => {
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
};
