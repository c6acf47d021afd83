/**
 * OpenTelemetry traces of executions, exported over OTLP/HTTP: a `graphbox.execution` span per
 * execution, a child per node run (parallel nodes are siblings) and a child per LLM call, under
 * the node that made it when the gateway could tell which one did.
 *
 * Spans are built from the engine's reports, not from code running inside them, so each is
 * given explicit start and end times. The provider is this app's own, never registered as the
 * global one: several apps (tests) can trace side by side and nothing else in the process is
 * instrumented by accident.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { defaultResource, resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor } from "@opentelemetry/sdk-trace-base";
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVICE_NAME,
} from "@opentelemetry/semantic-conventions";

import type { ExecutionEvent, ExecutionOutcome, NodeTiming } from "../contract/types.ts";
import { GEN_AI } from "./genai.ts";
import type { EgressConnectionInfo, ExecutionInfo, ExecutionObserver, LlmCallInfo } from "./observer.ts";

/** Ended executions whose late LLM reports (a call still streaming when the program died) still find their trace. */
const ENDED_KEPT = 256;
/** Bounds what an untrusted program can put into one attribute (error texts, node and model names). */
const ATTRIBUTE_LENGTH_LIMIT = 4096;

/** A node run: started at node_start, given its end time at node_end, ended with the execution (when its status is known). */
interface NodeSpan {
  node: string;
  step: number;
  span: Span;
  startedAt: number;
  endedAt: number | null;
}

/** Where an execution's LLM calls go: under its latest span of the calling node, or under the execution. */
interface CallParents {
  context: Context;
  lastByNode: Map<string, Context>;
}

interface ExecutionTrace extends CallParents {
  span: Span;
  nodes: NodeSpan[];
}

export interface TracingOptions {
  /** Full OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string;
  protocol: "http/protobuf" | "http/json";
  /** service.name of the spans. */
  serviceName: string;
  /** Told when a flush could not deliver the spans (collector down): traces must never fail a shutdown. */
  onExportError?: (err: unknown) => void;
}

export class Tracing implements ExecutionObserver {
  private readonly provider: BasicTracerProvider;
  private readonly tracer: Tracer;
  private readonly running = new Map<string, ExecutionTrace>();
  private readonly ended = new Map<string, CallParents>();
  private readonly onExportError: (err: unknown) => void;

  constructor(options: TracingOptions) {
    this.onExportError = options.onExportError ?? (() => undefined);
    const exporter =
      options.protocol === "http/json"
        ? new OtlpJsonExporter({ url: options.endpoint })
        : new OtlpProtobufExporter({ url: options.endpoint });
    this.provider = new BasicTracerProvider({
      resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName })),
      spanProcessors: [new BatchSpanProcessor(exporter)],
      spanLimits: { attributeValueLengthLimit: ATTRIBUTE_LENGTH_LIMIT },
    });
    this.tracer = this.provider.getTracer("graphbox");
  }

  executionStarted(info: ExecutionInfo): void {
    const now = Date.now();
    // The span covers the wait for admission too: that is part of what the caller waited.
    const span = this.tracer.startSpan(
      "graphbox.execution",
      {
        kind: SpanKind.INTERNAL,
        startTime: now - info.queueMs,
        attributes: {
          "graphbox.execution.id": info.id,
          "graphbox.thread.id": info.threadId,
          "graphbox.owner": info.owner,
          "graphbox.runtime": info.runtime,
          "graphbox.language": info.language,
          "graphbox.queue_ms": info.queueMs,
        },
      },
      ROOT_CONTEXT,
    );
    this.running.set(info.id, { span, context: trace.setSpan(ROOT_CONTEXT, span), nodes: [], lastByNode: new Map() });
  }

  executionEvent(info: ExecutionInfo, event: ExecutionEvent): void {
    const execution = this.running.get(info.id);
    if (!execution) return;
    if (event.type === "node_start") {
      const startedAt = Date.now();
      const span = this.tracer.startSpan(
        `node ${event.node}`,
        {
          kind: SpanKind.INTERNAL,
          startTime: startedAt,
          attributes: { "graphbox.node.name": event.node, "graphbox.node.step": event.step },
        },
        execution.context,
      );
      execution.nodes.push({ node: event.node, step: event.step, span, startedAt, endedAt: null });
      execution.lastByNode.set(event.node, trace.setSpan(execution.context, span));
    } else if (event.type === "node_end") {
      // The first open run of this node at this step: a step may run one node several times (Send).
      const run = execution.nodes.find((n) => n.endedAt === null && n.node === event.node && n.step === event.step);
      if (run) run.endedAt = run.startedAt + event.duration_ms;
    } else if (event.type === "interrupt") {
      execution.span.addEvent("graphbox.interrupt", { "graphbox.interrupt.next": event.next });
    }
  }

  llmCall(call: LlmCallInfo): void {
    const execution = this.running.get(call.executionId) ?? this.ended.get(call.executionId);
    if (!execution) return;
    const parent = (call.node !== null ? execution.lastByNode.get(call.node) : undefined) ?? execution.context;
    const operation = operationName(call.operation);
    const failed = call.status === 0 || call.status >= 400;
    const attributes: Attributes = {
      [GEN_AI.SYSTEM]: call.provider,
      [GEN_AI.PROVIDER_NAME]: call.provider,
      [GEN_AI.OPERATION_NAME]: operation,
      [GEN_AI.REQUEST_MODEL]: call.model,
      [GEN_AI.REQUEST_STREAM]: call.stream,
      [GEN_AI.USAGE_INPUT_TOKENS]: call.inputTokens,
      [GEN_AI.USAGE_OUTPUT_TOKENS]: call.outputTokens,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: call.status,
      "graphbox.llm.path": call.operation,
    };
    if (call.stream && call.firstByteMs !== null)
      attributes[GEN_AI.RESPONSE_TIME_TO_FIRST_CHUNK] = call.firstByteMs / 1000;
    if (failed) attributes[ATTR_ERROR_TYPE] = call.status === 0 ? "upstream_unreachable" : String(call.status);
    const span = this.tracer.startSpan(
      `${operation} ${call.model}`,
      { kind: SpanKind.CLIENT, startTime: call.startedAt, attributes },
      parent,
    );
    if (failed)
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: call.status === 0 ? "the upstream could not be reached" : `the upstream answered ${call.status}`,
      });
    span.end(call.startedAt + call.durationMs);
  }

  /** A span per egress connection (or refusal), under its execution's span. */
  egressConnection(connection: EgressConnectionInfo): void {
    const id = connection.executionId;
    const execution = id === null ? undefined : (this.running.get(id) ?? this.ended.get(id));
    const name = `egress ${connection.kind === "tunnel" ? "CONNECT" : "HTTP"} ${connection.host ?? "(invalid)"}`;
    const attributes: Attributes = {
      "server.address": connection.host ?? "",
      "server.port": connection.port,
      "graphbox.egress.kind": connection.kind,
      "graphbox.egress.bytes_in": connection.bytesIn,
      "graphbox.egress.bytes_out": connection.bytesOut,
      [ATTR_HTTP_RESPONSE_STATUS_CODE]: connection.status,
    };
    if (connection.address !== null) attributes["network.peer.address"] = connection.address;
    if (connection.refusedBy !== null) {
      attributes["graphbox.egress.refused_by"] = connection.refusedBy;
      attributes[ATTR_ERROR_TYPE] = connection.refusedBy;
    }
    const span = this.tracer.startSpan(
      name,
      { kind: SpanKind.CLIENT, startTime: connection.startedAt, attributes },
      execution?.context ?? ROOT_CONTEXT,
    );
    if (connection.refusedBy !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: connection.reason ?? "" });
    span.end(connection.startedAt + connection.durationMs);
  }

  executionEnded(info: ExecutionInfo, outcome: ExecutionOutcome): void {
    const execution = this.running.get(info.id);
    if (!execution) return;
    this.running.delete(info.id);
    const now = Date.now();
    const metadata = outcome.status === "error" ? outcome.metadata : outcome.result.metadata;
    this.endNodes(execution, metadata.node_timings, outcome, now);

    const usage = metadata.token_usage;
    execution.span.setAttributes({
      "graphbox.execution.status": outcome.status,
      "graphbox.tokens.input": usage.input_tokens,
      "graphbox.tokens.output": usage.output_tokens,
      "graphbox.tokens.total": usage.total_tokens,
      "graphbox.nodes_executed": metadata.nodes_executed.length,
    });
    if (outcome.status === "error") {
      execution.span.setAttributes({
        "graphbox.error_type": outcome.error_type,
        [ATTR_ERROR_TYPE]: outcome.error_type,
      });
      if (outcome.node) execution.span.setAttribute("graphbox.error.node", outcome.node);
      // A cancel is the caller's choice, not a failure.
      if (outcome.error_type !== "cancelled")
        execution.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
    }
    execution.span.end(now);

    this.ended.set(info.id, { context: execution.context, lastByNode: execution.lastByNode });
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Node spans end with the execution, once each run's status is known from metadata.node_timings. */
  private endNodes(execution: ExecutionTrace, timings: NodeTiming[], outcome: ExecutionOutcome, now: number): void {
    const unmatched = [...timings];
    for (const run of execution.nodes) {
      const index = unmatched.findIndex((t) => t.node === run.node && t.step === run.step);
      const timing = index >= 0 ? unmatched.splice(index, 1)[0] : undefined;
      if (run.endedAt === null) {
        // Still running when the execution ended: killed by a timeout, a limit, a cancel, or the failing node itself.
        run.span.setAttribute("graphbox.node.status", "unfinished");
        if (outcome.status === "error" && outcome.error_type !== "cancelled")
          run.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
        run.span.end(now);
        continue;
      }
      if (timing) {
        run.span.setAttributes({ "graphbox.node.status": timing.status, "graphbox.node.tokens": timing.tokens });
        if (timing.status === "error") {
          run.span.setStatus({
            code: SpanStatusCode.ERROR,
            ...(outcome.status === "error" && outcome.node === run.node ? { message: outcome.error } : {}),
          });
        }
      }
      run.span.end(run.endedAt);
    }
  }

  /** Sends what is buffered (shutdown, tests). */
  async flush(): Promise<void> {
    await this.provider.forceFlush().catch(this.onExportError);
  }

  /** Flushes and stops the exporter. Idempotent. */
  async close(): Promise<void> {
    await this.provider.shutdown().catch(this.onExportError);
  }
}

/** gen_ai.operation.name of a provider API path. */
function operationName(path: string): string {
  if (path === "/chat/completions" || path === "/responses" || path === "/messages") return "chat";
  if (path === "/embeddings") return "embeddings";
  if (path === "/completions") return "text_completion";
  return path.replace(/^\/+/, "");
}
