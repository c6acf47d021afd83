/** One structured log line per execution, at its end, and one per engine fault. The program's own prints never go here. */
import type { FastifyBaseLogger } from "fastify";

import type { ExecutionObserver } from "./observer.ts";

export function executionLog(logger: FastifyBaseLogger): ExecutionObserver {
  return {
    executionEnded(info, outcome) {
      const metadata = outcome.status === "error" ? outcome.metadata : outcome.result.metadata;
      const line = {
        execution_id: info.id,
        key: info.owner,
        thread_id: info.threadId,
        runtime: info.runtime,
        language: info.language,
        status: outcome.status,
        error_type: outcome.status === "error" ? outcome.error_type : null,
        // Limits that ended it: the error types that name one.
        limit_hit:
          outcome.status === "error" &&
          ["timeout", "memory_limit", "resource_limit", "output_limit", "token_budget"].includes(outcome.error_type)
            ? outcome.error_type
            : null,
        duration_ms: metadata.duration_ms,
        queue_ms: Math.round(info.queueMs),
        tokens_used: metadata.tokens_used,
        nodes: metadata.nodes_executed.length,
      };
      if (outcome.status === "error" && outcome.error_type === "internal_error")
        logger.error(line, "execution failed inside the engine");
      else logger.info(line, "execution ended");
    },
    egressConnection(connection) {
      // One line per refusal: what was refused and by which rule. Allowed connections are metered, not logged.
      if (connection.refusedBy === null) return;
      logger.warn(
        {
          execution_id: connection.executionId,
          host: connection.host,
          port: connection.port,
          kind: connection.kind,
          rule: connection.refusedBy,
          status: connection.status,
          reason: connection.reason,
        },
        "egress refused",
      );
    },
    engineFault(kind, err) {
      logger.error({ kind, err }, "engine fault: the execution it touched ended, the engine carries on");
    },
  };
}
