/**
 * Prometheus metrics, fed by the engine's observer calls and served at GET /metrics. Each app
 * has a registry of its own (never prom-client's global one), so a process, a test file in
 * particular, can build several apps without their series colliding.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

import type { ExecutionEvent, ExecutionOutcome, RuntimeName } from "../contract/types.ts";
import type {
  EgressConnectionInfo,
  EngineFaultKind,
  ExecutionInfo,
  ExecutionObserver,
  LlmCallInfo,
} from "./observer.ts";

/** What admission control knows and the metrics read at scrape time. */
export interface AdmissionGauges {
  /** Executions holding a slot. */
  inFlight(): number;
  /** Requests waiting for a slot. */
  queued(): number;
}

/** The warm-start pools, read at scrape time: per runtime, sandboxes waiting, and takes that hit or missed. */
export type WarmGauges = () => { runtime: string; waiting: number; hits: number; misses: number }[];

/** The store's connection pool and this engine's lease among its peers, read at scrape time. */
export type ClusterGauges = () => {
  pool: { total: number; idle: number; waiting: number };
  liveEngines: number;
  lastHeartbeatAt: number | null;
  heartbeatFailures: number;
  reapedEngines: number;
  failedExecutions: number;
};

/**
 * Model names come from untrusted programs: a program looping over random model names must not
 * grow the registry without bound. The first MAX_MODELS names get series of their own, later
 * ones share `other`.
 */
const MAX_MODELS = 64;
/** Egress hosts with series of their own; later ones share `other`. */
const MAX_HOSTS = 64;
const MAX_LABEL_LENGTH = 100;
/** error_type of executions that did not fail, so that every series carries the label. */
const NO_ERROR = "none";

const seconds = (ms: number): number => Math.max(0, ms) / 1000;

export class Metrics implements ExecutionObserver {
  readonly registry = new Registry();
  private readonly models = new Set<string>();
  private readonly hosts = new Set<string>();

  private readonly executions = new Counter({
    name: "graphbox_executions_total",
    help: "Executions ended, by status (success, interrupted, error), runtime (python, js) and error_type (none when not an error)",
    labelNames: ["status", "runtime", "error_type"] as const,
    registers: [this.registry],
  });
  private readonly executionDuration = new Histogram({
    name: "graphbox_execution_duration_seconds",
    help: "Wall-clock time of an execution from sandbox start to outcome (metadata.duration_ms)",
    labelNames: ["runtime", "status"] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: "graphbox_queue_wait_seconds",
    help: "Time an execution waited for admission",
    buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly llmTokens = new Counter({
    name: "graphbox_llm_tokens_total",
    help: "Tokens the LLM providers reported through the gateway, by model and direction (input, output)",
    labelNames: ["model", "direction"] as const,
    registers: [this.registry],
  });
  private readonly llmCalls = new Counter({
    name: "graphbox_llm_calls_total",
    help: "LLM calls forwarded by the gateway, by provider, model and upstream HTTP status (0: unreachable)",
    labelNames: ["provider", "model", "status"] as const,
    registers: [this.registry],
  });
  private readonly upstreamErrors = new Counter({
    name: "graphbox_gateway_upstream_errors_total",
    help: "Forwarded LLM calls the upstream answered with status >= 400, or never answered (status 0)",
    labelNames: ["provider", "status"] as const,
    registers: [this.registry],
  });
  private readonly sandboxStart = new Histogram({
    name: "graphbox_sandbox_start_seconds",
    help: "Time from starting a sandbox to its runtime reporting ready",
    labelNames: ["runtime"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly nodeDuration = new Histogram({
    name: "graphbox_node_duration_seconds",
    help: "Duration of one graph node run, as the harness measured it",
    labelNames: ["runtime"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60],
    registers: [this.registry],
  });

  private readonly egressConnections = new Counter({
    name: "graphbox_egress_connections_total",
    help: "Connections through the egress proxy (forwarded requests and CONNECT tunnels), by host (the first 64 hosts, then other) and outcome (allowed, or the rule that refused it)",
    labelNames: ["host", "outcome"] as const,
    registers: [this.registry],
  });
  private readonly egressBytes = new Counter({
    name: "graphbox_egress_bytes_total",
    help: "Bytes relayed by the egress proxy, by host (the first 64 hosts, then other) and direction (in: to the program, out: from it)",
    labelNames: ["host", "direction"] as const,
    registers: [this.registry],
  });

  private readonly engineFaults = new Counter({
    name: "graphbox_engine_faults_total",
    help: "Faults of the engine's own that ended one execution (or were caught at the process's last line), by kind",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  /** @param admission read at every scrape, so it always shows the current values. */
  constructor(admission: AdmissionGauges, warm: WarmGauges = () => [], cluster?: ClusterGauges) {
    new Gauge({
      name: "graphbox_warm_sandboxes",
      help: "Pre-started sandboxes waiting for a job, by runtime",
      labelNames: ["runtime"],
      registers: [this.registry],
      collect() {
        for (const pool of warm()) this.set({ runtime: pool.runtime }, pool.waiting);
      },
    });
    new Gauge({
      name: "graphbox_warm_takes",
      help: "Executions that found a pre-started sandbox (hit) or had to start one (miss), by runtime, since start",
      labelNames: ["runtime", "result"],
      registers: [this.registry],
      collect() {
        for (const pool of warm()) {
          this.set({ runtime: pool.runtime, result: "hit" }, pool.hits);
          this.set({ runtime: pool.runtime, result: "miss" }, pool.misses);
        }
      },
    });
    new Gauge({
      name: "graphbox_executions_in_flight",
      help: "Executions running now (holding an admission slot)",
      registers: [this.registry],
      collect() {
        this.set(admission.inFlight());
      },
    });
    new Gauge({
      name: "graphbox_queue_depth",
      help: "Requests waiting for an admission slot now",
      registers: [this.registry],
      collect() {
        this.set(admission.queued());
      },
    });
    if (cluster) this.clusterGauges(cluster);
    // process_* (CPU, memory, file descriptors) and nodejs_* (event-loop lag, heap, GC).
    collectDefaultMetrics({ register: this.registry });
  }

  private clusterGauges(cluster: ClusterGauges): void {
    const gauge = (name: string, help: string, read: (c: ReturnType<ClusterGauges>) => number | null): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          const value = read(cluster());
          if (value !== null) this.set(value);
        },
      });
    };
    new Gauge({
      name: "graphbox_store_pool_connections",
      help: "The store's database connections by state: open (total), idle, and requests waiting for one",
      labelNames: ["state"],
      registers: [this.registry],
      collect() {
        const { pool } = cluster();
        this.set({ state: "total" }, pool.total);
        this.set({ state: "idle" }, pool.idle);
        this.set({ state: "waiting" }, pool.waiting);
      },
    });
    gauge(
      "graphbox_cluster_live_engines",
      "Engines with a live lease on this database, this one included",
      (c) => c.liveEngines,
    );
    gauge(
      "graphbox_engine_lease_age_seconds",
      "Seconds since this engine last renewed its lease (past the lease, peers take it for dead)",
      (c) => (c.lastHeartbeatAt === null ? null : seconds(Date.now() - c.lastHeartbeatAt)),
    );
    gauge(
      "graphbox_engine_lease_failures",
      "Lease renewals that failed (the database unreachable) since start",
      (c) => c.heartbeatFailures,
    );
    gauge(
      "graphbox_cluster_reaped_engines",
      "Dead engines whose lease this engine reaped, since start",
      (c) => c.reapedEngines,
    );
    gauge(
      "graphbox_cluster_failed_executions",
      "Executions of dead engines this engine failed (error_type internal_error), since start",
      (c) => c.failedExecutions,
    );
  }

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  executionStarted(info: ExecutionInfo): void {
    this.queueWait.observe(seconds(info.queueMs));
  }

  executionEvent(info: ExecutionInfo, event: ExecutionEvent): void {
    if (event.type === "node_end") this.nodeDuration.observe({ runtime: info.runtime }, seconds(event.duration_ms));
  }

  executionEnded(info: ExecutionInfo, outcome: ExecutionOutcome): void {
    const errorType = outcome.status === "error" ? outcome.error_type : NO_ERROR;
    const metadata = outcome.status === "error" ? outcome.metadata : outcome.result.metadata;
    this.executions.inc({ status: outcome.status, runtime: info.runtime, error_type: errorType });
    this.executionDuration.observe({ runtime: info.runtime, status: outcome.status }, seconds(metadata.duration_ms));
  }

  llmCall(call: LlmCallInfo): void {
    const model = this.modelLabel(call.model);
    const status = String(call.status);
    this.llmCalls.inc({ provider: call.provider, model, status });
    if (call.inputTokens > 0) this.llmTokens.inc({ model, direction: "input" }, call.inputTokens);
    if (call.outputTokens > 0) this.llmTokens.inc({ model, direction: "output" }, call.outputTokens);
    if (call.status === 0 || call.status >= 400) this.upstreamErrors.inc({ provider: call.provider, status });
  }

  egressConnection(connection: EgressConnectionInfo): void {
    const host = connection.host === null ? "other" : this.hostLabel(connection.host);
    this.egressConnections.inc({ host, outcome: connection.refusedBy ?? "allowed" });
    if (connection.bytesIn > 0) this.egressBytes.inc({ host, direction: "in" }, connection.bytesIn);
    if (connection.bytesOut > 0) this.egressBytes.inc({ host, direction: "out" }, connection.bytesOut);
  }

  engineFault(kind: EngineFaultKind): void {
    this.engineFaults.inc({ kind });
  }

  sandboxStarted(runtime: RuntimeName, ms: number): void {
    this.sandboxStart.observe({ runtime }, seconds(ms));
  }

  /** Hosts are the programs' choice, as model names are: bounded the same way. */
  private hostLabel(host: string): string {
    if (this.hosts.has(host)) return host;
    if (this.hosts.size >= MAX_HOSTS) return "other";
    this.hosts.add(host);
    return host;
  }

  private modelLabel(model: string): string {
    const label = model.slice(0, MAX_LABEL_LENGTH);
    if (this.models.has(label)) return label;
    if (this.models.size >= MAX_MODELS) return "other";
    this.models.add(label);
    return label;
  }
}
