/** What an operator's tools ask: liveness, readiness, metrics. */
import type { FastifyPluginAsync } from "fastify";

import { installedPackages, type Config } from "../../config/index.ts";
import type { Engine } from "../../engine/engine.ts";
import type { SupplyReport } from "../../supply/index.ts";
import type { Metrics } from "../../observability/metrics.ts";
import type { Store } from "../../store/types.ts";
import { ANY, described, errorResponses, oneOf } from "../openapi.ts";

/** Routes that keep answering while the engine drains. */
export const OPERATIONS_PATHS: ReadonlySet<string> = new Set(["/health", "/ready", "/metrics"]);

// Only /health is public: with API keys, /ready and /metrics answer 401 like any other route.
const operationsErrors = errorResponses(["GBX_ERR_UNAUTHENTICATED", "GBX_ERR_INTERNAL"]);

export interface OperationsRoutesOptions {
  config: Readonly<Config>;
  engine: Engine;
  store: Store;
  metrics: Metrics;
}

export const operationsRoutes: FastifyPluginAsync<OperationsRoutesOptions> = async (
  app,
  { config, engine, store, metrics },
) => {
  app.get(
    "/health",
    {
      schema: {
        tags: ["operations"],
        summary: "Liveness (no auth)",
        security: [],
        response: described("{status: ok}", { status: oneOf("ok") }),
      },
    },
    async () => ({ status: "ok" }),
  );
  app.get(
    "/ready",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness: runtimes, sandbox protections in force, store, the engines on its database",
        response: {
          ...described("{status, runtimes, store, cluster, in_flight, sandbox, warm_start, packages}", {
            status: oneOf("ready"),
            sandbox: ANY,
            packages: ANY,
          }),
          ...operationsErrors,
        },
      },
    },
    async () => ({
      status: "ready",
      runtimes: { python: { python: config.pythonPath } },
      store: store.backend,
      cluster: clusterView(engine, store),
      in_flight: engine.inFlight,
      sandbox: await engine.supply.protections(),
      warm_start: warmStart(engine.supply.report()),
      packages: installedPackages(config),
    }),
  );
  app.get(
    "/metrics",
    {
      schema: {
        tags: ["operations"],
        summary: "Prometheus metrics (text exposition format)",
        response: {
          200: {
            description: "graphbox_* metrics, process_* and nodejs_*",
            content: { "text/plain": { schema: { type: "string" } } },
          },
          ...operationsErrors,
        },
      },
    },
    async (_request, reply) => {
      const { contentType, body } = await metrics.render();
      return reply.type(contentType).send(body);
    },
  );
};

/** /ready's `warm_start`: the zygote, the pools, their memory budget, how often runtime files changed. */
function warmStart(report: SupplyReport): Record<string, unknown> {
  const forkServer = report.pythonForkServer;
  return {
    python_fork_server:
      forkServer.state === "warm"
        ? { state: "warm", ...forkServer.zygote }
        : { state: "off", reason: forkServer.reason },
    pools: Object.fromEntries(
      report.pools.map((p) => [
        p.runtime,
        {
          waiting: p.waiting,
          ready: p.ready,
          hits: p.hits,
          misses: p.misses,
          memory_mb: Math.round(p.memoryBytes / 2 ** 20),
        },
      ]),
    ),
    pool_memory_budget_mb: Math.round(report.poolMemoryBudgetBytes / 2 ** 20),
    runtime_file_changes: report.runtimeFileChanges,
  };
}

/** /ready's `cluster`: this engine, its lease, and how many engines share the database now. */
function clusterView(engine: Engine, store: Store): Record<string, unknown> {
  const peers = engine.peers.report();
  return {
    engine_id: peers.engineId,
    address: peers.address,
    live_engines: peers.liveEngines,
    lease_ms: peers.leaseMs,
    last_heartbeat_at: peers.lastHeartbeatAt === null ? null : new Date(peers.lastHeartbeatAt).toISOString(),
    store_pool: store.poolStats(),
  };
}
