/**
 * A run of LangGraph's Agent API as the engine runs it: the run's body (as the SDKs send it) and
 * its assistant become one ExecutionRequest. The run body's shape is LangGraph's `RunCreate`;
 * Graphbox reads the fields below and ignores the rest (webhooks, LangSmith tracing, feedback keys).
 */
import type { Config } from "../config/index.ts";
import { GraphboxError } from "../contract/errors.ts";
import type { ChunkModeName, ExecutionRequest } from "../contract/types.ts";
import type { GraphRecord } from "../store/types.ts";
import { isJsonObject, nestedDeeperThan } from "../contract/json.ts";

/** The stream modes a run may ask for, as the SDKs name them. */
export const RUN_STREAM_MODES = [
  "values",
  "updates",
  "messages",
  "messages-tuple",
  "custom",
  "debug",
  "tasks",
  "checkpoints",
] as const;
export type RunStreamMode = (typeof RUN_STREAM_MODES)[number];

export const MULTITASK_STRATEGIES = ["reject", "interrupt", "rollback", "enqueue"] as const;
export type MultitaskStrategy = (typeof MULTITASK_STRATEGIES)[number];

/** The fields of LangGraph's RunCreate that Graphbox reads (validated by the route's schema). */
export interface RunBody {
  assistant_id: string;
  input?: unknown;
  command?: { resume?: unknown; update?: unknown; goto?: unknown } | null;
  metadata?: Record<string, unknown> | null;
  config?: {
    configurable?: Record<string, unknown>;
    recursion_limit?: number;
    tags?: string[];
    /** Graphbox's additions: the execution's deadline and token budget, capped by the server's. */
    timeout_ms?: number;
    max_tokens?: number;
    [key: string]: unknown;
  } | null;
  context?: Record<string, unknown> | null;
  checkpoint?: { checkpoint_id?: string | null; [key: string]: unknown } | null;
  checkpoint_id?: string | null;
  interrupt_before?: "*" | string[] | null;
  interrupt_after?: "*" | string[] | null;
  stream_mode?: RunStreamMode | RunStreamMode[] | null;
  stream_subgraphs?: boolean | null;
  multitask_strategy?: MultitaskStrategy | null;
  if_not_exists?: "create" | "reject" | null;
  on_disconnect?: "cancel" | "continue" | null;
  on_completion?: "delete" | "keep" | null;
  [key: string]: unknown;
}

/** The assistant a run uses: its graph and the defaults it adds to every run. */
export interface ResolvedAssistant {
  assistantId: string;
  graphId: string;
  config: Record<string, unknown>;
  context: Record<string, unknown>;
  metadata: Record<string, unknown>;
  graph: GraphRecord;
}

/** The modes a run's body asks for, LangGraph's default (`values`) when it names none. */
export function streamModesOf(body: RunBody): RunStreamMode[] {
  const asked = body.stream_mode ?? ["values"];
  const modes = Array.isArray(asked) ? asked : [asked];
  return [...new Set(modes.length > 0 ? modes : (["values"] as RunStreamMode[]))];
}

/** What the harness must forward for the modes a client asked for (both `messages` forms read LangGraph's tuples). */
function chunkModes(modes: RunStreamMode[]): ChunkModeName[] {
  const wanted = new Set<ChunkModeName>(modes.map((mode) => (mode === "messages-tuple" ? "messages" : mode)));
  // `wait` and `join` answer with the last values; `__interrupt__` shows in them.
  wanted.add("values");
  return [...wanted];
}

/**
 * The nodes a breakpoint list names; `"*"` is every node of the registered graph. A name the graph
 * has no node for is dropped, as LangGraph's servers ignore it (langgraphjs's own server tests ask
 * the weather graph to stop before a `tool` node it does not have), where `/execute-langgraph`'s
 * contract refuses it.
 */
function breakpointNodes(asked: "*" | string[] | null | undefined, graph: GraphRecord): string[] {
  if (asked === undefined || asked === null) return [];
  const drawn = graph.description["graph"] as { nodes?: { id?: unknown }[] } | undefined;
  const nodes = (drawn?.nodes ?? [])
    .map((node) => node.id)
    .filter((id): id is string => typeof id === "string" && !id.startsWith("__"));
  return asked === "*" ? nodes : asked.filter((name) => nodes.includes(name));
}

const objectOr = (value: unknown): Record<string, unknown> => (isJsonObject(value) ? value : {});

export interface RunRequestOptions {
  runId: string;
  threadId: string;
  body: RunBody;
  assistant: ResolvedAssistant;
  config: Readonly<Config>;
  /** The checkpoint to start from when the body names none (a rollback's). */
  checkpointId?: string | null;
}

/** The execution that runs this run: the assistant's config and context under the run's own. */
export function toRunExecution({
  runId,
  threadId,
  body,
  assistant,
  config,
  checkpointId = null,
}: RunRequestOptions): ExecutionRequest {
  for (const field of ["input", "command", "config", "context", "metadata", "checkpoint"] as const) {
    if (nestedDeeperThan(body[field], config.maxInputDepth))
      throw new GraphboxError(
        "GBX_ERR_INVALID_REQUEST",
        `\`${field}\` is nested deeper than GRAPHBOX_MAX_INPUT_DEPTH (${config.maxInputDepth}) allows`,
      );
  }
  const runConfig = body.config ?? {};
  const assistantConfig = assistant.config;
  const configurable = {
    ...objectOr(assistantConfig["configurable"]),
    ...objectOr(runConfig.configurable),
  };
  const context = { ...assistant.context, ...objectOr(body.context) };
  const recursionLimit =
    runConfig.recursion_limit ??
    (typeof assistantConfig["recursion_limit"] === "number"
      ? assistantConfig["recursion_limit"]
      : config.recursionLimit);
  const command = body.command ?? null;
  const hasCommand = command !== null && (command.update !== undefined || command.goto !== undefined);
  const metadata = {
    ...objectOr(body.metadata),
    graph_id: assistant.graphId,
    assistant_id: assistant.assistantId,
    run_id: runId,
    thread_id: threadId,
  };
  const graph = assistant.graph;
  const breakpoints = [
    ...breakpointNodes(body.interrupt_before, graph).map((node) => ({ node, when: "before" as const })),
    ...breakpointNodes(body.interrupt_after, graph).map((node) => ({ node, when: "after" as const })),
  ];
  return {
    code: graph.code,
    files: graph.files,
    graph: graph.graph,
    language: graph.language,
    languageDetected: false,
    inputs: command ? null : (body.input ?? null),
    resume: command?.resume ?? null,
    threadId,
    debug: false,
    breakpoints,
    timeoutMs: Math.min(runConfig.timeout_ms ?? config.defaultTimeoutMs, config.maxTimeoutMs),
    recursionLimit,
    checkpointId: body.checkpoint_id ?? body.checkpoint?.checkpoint_id ?? checkpointId,
    maxTokens: Math.min(runConfig.max_tokens ?? config.maxTokensPerExecution, config.maxTokensPerExecution),
    configurable,
    context: Object.keys(context).length > 0 ? context : null,
    stream: true,
    run: {
      runId,
      streamModes: chunkModes(streamModesOf(body)),
      subgraphs: body.stream_subgraphs ?? false,
      command: hasCommand ? { update: command.update, goto: command.goto } : null,
      metadata,
    },
  };
}
