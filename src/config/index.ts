/**
 * The engine's configuration: one schema, read from environment variables once at start,
 * every problem reported at once by the variable's name, then frozen.
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

import { PROJECT_ROOT } from "../contract/paths.ts";

export { PROJECT_ROOT };

export interface Config {
  /** Address to bind. Default 127.0.0.1. */
  host: string;
  /** Port to bind; 0 picks a free one. Default 8000. */
  port: number;
  /** Python interpreter of the runtime's virtual environment. Default <root>/.venv/bin/python. */
  pythonPath: string;
  /** Timeout of an execution that does not set config.timeout_ms. Default 60000. */
  defaultTimeoutMs: number;
  /** Largest config.timeout_ms a request may ask for; larger values are capped. Default 300000. */
  maxTimeoutMs: number;
  /** Time a runtime may take to start and import LangGraph before the execution fails. Default 30000. */
  startupTimeoutMs: number;
  /** Python executions fork from a warm, pre-imported parent (when sandboxed with cgroups). Default true. */
  pythonForkServer: boolean;
  /** Pre-started sandboxes kept per runtime without a fork server: at least this many. Default 1. */
  warmPoolMin: number;
  /** ... and at most this many (grows on misses, shrinks when idle). 0: no pool. Default 4. */
  warmPoolMax: number;
  /** Memory all waiting sandboxes together may hold (charged to their cgroups); a pool stops growing at it (0: pools keep their minimum only). Default 1024 MiB. */
  warmPoolMemoryMb: number;
  /** Largest request body accepted. Default 1 MiB. */
  bodyLimitBytes: number;
  /**
   * Deepest nesting of arrays and objects in a request's `inputs`, `resume` and
   * `config.configurable`; deeper is a 400. Default 100: the engine's JSON encoder overflows its
   * stack near 5,000 levels, Python's decoder near 1,000.
   */
  maxInputDepth: number;
  /** Program prints kept for metadata.logs (stdout and stderr together); the rest is cut. Default 64 KiB. */
  maxLogBytes: number;
  /** Bytes a program may print in all (kept or dropped); more end it with output_limit, since reading them is the engine's work. Default 64 MiB. */
  maxLogTotalBytes: number;
  /** Largest single message (result, event) a harness may send, and the largest answer (result and config.debug's trace together). Default 16 MiB. */
  maxOutputBytes: number;
  /** Events one execution may send (stored and streamed); more end it with output_limit. Default 50000. */
  maxEvents: number;
  /** Bytes of events one execution may send (their frames, summed); more end it with output_limit. Default 64 MiB. */
  maxEventBytes: number;
  /** Default LangGraph recursion limit. Default 25. */
  recursionLimit: number;
  /** Bytes of one checkpoint write (a put, or one put_writes); over it the run ends with output_limit. Default 8 MiB. */
  maxCheckpointWriteBytes: number;
  /** Bytes all of a thread's checkpoints and pending writes may hold; over it the run ends with output_limit. Default 256 MiB. */
  maxThreadCheckpointBytes: number;
  /** Bytes (blobs and pending writes) one checkpoint read may load for a harness. Default 32 MiB. */
  maxCheckpointReadBytes: number;
  /** Checkpoints one list answer to a harness holds (it pages for more). Default 100. */
  checkpointListLimit: number;
  /** Directory of the embedded store (SQLite). Default <root>/.data. */
  dataDir: string;
  /** Quiet time after which a stream sends a keep-alive comment. Default 15000. */
  sseKeepAliveMs: number;
  /** pino log level. Default info. */
  logLevel: string;
  /** API keys by name (from GRAPHBOX_API_KEYS and GRAPHBOX_API_KEYS_FILE). Empty: no auth, loopback only. */
  apiKeys: Record<string, string>;
  /** Lets an engine without keys bind a non-loopback address. Default false. */
  allowUnauthenticatedPublic: boolean;
  /** Executions running at once. Default from cores and memory. */
  maxConcurrent: number;
  /** Requests waiting for a slot; more get 503. Default 64. */
  queueSize: number;
  /** Longest wait in the queue before 503. Default 30000. */
  queueTimeoutMs: number;
  /** Executions one key may have running or queued; more get 429. 0: no per-key limit (one key may fill every slot and the queue). Default 0. */
  keyMaxConcurrent: number;
  /** Executions one key may start per minute; 0: unlimited. Default 0. */
  keyRatePerMinute: number;
  /** On SIGTERM, how long running executions may take to finish before they are cancelled. Default 30000. */
  shutdownGraceMs: number;
  /** Models a program may call through the gateway (`*` wildcards); empty: any. */
  modelAllowlist: string[];
  /** Time the gateway waits for an upstream provider to start answering. Default 120000. */
  upstreamTimeoutMs: number;
  /** Tokens one execution may use; a request's config.max_tokens may only lower it. Default 1000000. */
  maxTokensPerExecution: number;
  /** What one execution (and all of them) may hold of the gateway: bytes, connections, calls, time. */
  gatewayLimits: GatewayLimits;
  /** Optional prices per million tokens by model, for metadata.cost. */
  prices: Record<string, { input: number; output: number }>;
  /** Upstream LLM providers (the gateway forwards to these with the keys). */
  openai: { baseUrl: string; apiKey: string | null };
  anthropic: { baseUrl: string; apiKey: string | null };
  /** Isolation and limits of every execution's sandbox. */
  sandbox: SandboxConfig;
  /** OpenTelemetry trace export (OTLP/HTTP). */
  tracing: TracingConfig;
}

export interface GatewayLimits {
  /** Largest request body a program may send to the gateway (413 above). Default 8 MiB. */
  maxBodyBytes: number;
  /** Bytes the gateway may hold for one execution's calls at once: bodies being received, answers read for usage (429 above). Default 32 MiB. */
  executionBufferBytes: number;
  /** Bytes the gateway may hold for all executions together (503 above). Default 256 MiB. */
  bufferBytes: number;
  /** Connections one execution may hold open to the gateway (429 above). Default 32. */
  executionConnections: number;
  /** Calls one execution may have in flight (429 above). Default 16. */
  executionCalls: number;
  /** Connections to the gateway altogether, before any credential is known (more are dropped). Default 1024. */
  maxConnections: number;
  /** Time a client may take to send a request's headers (408 after). Default 10000. */
  headersTimeoutMs: number;
  /** Time a client may take to send a request's body once its headers are in (408 after). Default 30000. */
  bodyTimeoutMs: number;
  /** Output tokens reserved from the budget for a call that declares no max_tokens. Default 4096. */
  outputReserveTokens: number;
}

export interface TracingConfig {
  /** Full OTLP/HTTP traces URL (…/v1/traces); null: no tracing. Default null. */
  endpoint: string | null;
  /** Encoding of the export. Default http/protobuf (OTLP's default). */
  protocol: OtlpProtocol;
  /** service.name of the spans. Default graphbox. */
  serviceName: string;
}

export type OtlpProtocol = "http/protobuf" | "http/json";

export interface SandboxConfig {
  /** Memory of one execution's process tree (cgroup), MiB. Default 512. */
  memoryMb: number;
  /** Processes and threads one execution may run at once (cgroup pids). Default 64. */
  maxProcesses: number;
  /** CPU seconds each process of an execution may use (RLIMIT_CPU). Default 60. */
  cpuSeconds: number;
  /** Largest file a program may write (RLIMIT_FSIZE), MiB. Default 64. */
  fileSizeMb: number;
  /** Size of the sandbox's /tmp, which also holds its HOME and working directory, MiB. Default 64. */
  tmpMb: number;
  /**
   * Files each process may hold open (RLIMIT_NOFILE). Default 1024: at 256 the JS harness failed
   * now and then with EMFILE while Node's ESM loader read @anthropic-ai/sdk's files in parallel.
   */
  openFiles: number;
  /** Run programs as plain child processes with no isolation (local development only). Default false. */
  unsafeNoSandbox: boolean;
}

type Env = Record<string, string | undefined>;

interface Option<T> {
  env: string;
  doc: string;
  default: T;
  parse: (raw: string) => T;
}

class Problems {
  readonly list: string[] = [];
  read<T>(env: Env, option: Option<T>): T {
    const raw = env[option.env];
    if (raw === undefined || raw === "") return option.default;
    try {
      return option.parse(raw);
    } catch (err: unknown) {
      this.list.push(`${option.env}=${JSON.stringify(raw)}: ${err instanceof Error ? err.message : String(err)}`);
      return option.default;
    }
  }
}

function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    if (!/^\d+$/.test(raw.trim())) throw new Error(`expected a whole number from ${min} to ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`expected a whole number from ${min} to ${max}`);
    return value;
  };
}

function url(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new Error("expected an http(s) URL such as https://api.openai.com/v1");
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new Error("expected an http(s) URL");
  return raw.replace(/\/+$/, "");
}

const text = (raw: string): string => raw;

const MIN_KEY_LENGTH = 16;

/** `name=key,name2=key2` (a bare key is named key1, key2... by position). */
function apiKeys(raw: string): Record<string, string> {
  const keys: Record<string, string> = {};
  raw.split(",").map((e) => e.trim()).filter((e) => e !== "").forEach((entry, i) => {
    const eq = entry.indexOf("=");
    const [name, key] = eq > 0 ? [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()] : [`key${i + 1}`, entry];
    if (key.length < MIN_KEY_LENGTH) throw new Error(`the key named ${name} is shorter than ${MIN_KEY_LENGTH} characters`);
    keys[name] = key;
  });
  return keys;
}

/** A file of `name key` lines (# comments), or a JSON object {name: key}. */
function apiKeysFile(path: string): Record<string, string> {
  let content: string;
  try {
    content = readFileSync(path, "utf8");
  } catch {
    throw new Error("cannot read the file");
  }
  if (content.trim().startsWith("{")) {
    const parsed = JSON.parse(content) as Record<string, unknown>;
    return apiKeys(Object.entries(parsed).map(([name, key]) => `${name}=${String(key)}`).join(","));
  }
  const entries = content.split("\n").map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
  return apiKeys(entries.map((line) => line.replace(/\s+/, "=")).join(","));
}

/** Python executions take ~150 MB each and mostly wait on LLMs: bound by memory, and by cores for CPU. */
const DEFAULT_MAX_CONCURRENT = Math.max(2, Math.min(cpus().length * 8, Math.floor(totalmem() / (256 * 1024 * 1024))));

function flag(raw: string): boolean {
  if (["1", "true", "yes"].includes(raw.toLowerCase())) return true;
  if (["0", "false", "no"].includes(raw.toLowerCase())) return false;
  throw new Error("expected 1 or 0");
}
const list = (raw: string): string[] => raw.split(",").map((item) => item.trim()).filter((item) => item !== "");

/** `{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}`: USD per million tokens. */
function prices(raw: string): Record<string, { input: number; output: number }> {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new Error('expected JSON such as {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}');
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("expected a JSON object keyed by model");
  for (const [model, price] of Object.entries(value as Record<string, unknown>)) {
    const p = price as Record<string, unknown> | null;
    if (typeof p?.["input"] !== "number" || typeof p["output"] !== "number") throw new Error(`price of ${model} needs numeric "input" and "output"`);
  }
  return value as Record<string, { input: number; output: number }>;
}
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/** An OTLP/HTTP collector address. */
function collectorUrl(raw: string): string {
  try {
    return url(raw);
  } catch {
    throw new Error("expected an http(s) URL such as http://localhost:4318");
  }
}

function otlpProtocol(raw: string): OtlpProtocol {
  if (raw === "http/protobuf" || raw === "http/json") return raw;
  if (raw === "grpc") throw new Error("grpc is not supported; use http/protobuf (the collector's OTLP/HTTP port, 4318)");
  throw new Error("expected http/protobuf or http/json");
}

/** Per the OTLP exporter spec: the traces endpoint is used as given, the base one gets /v1/traces. */
function tracesEndpoint(base: string | null, traces: string | null): string | null {
  return signalFirst(traces, base === null ? null : `${base}/v1/traces`);
}
/** An OTEL_EXPORTER_OTLP_TRACES_* setting wins over its OTEL_EXPORTER_OTLP_* one (both are read, so both are checked). */
const signalFirst = <T>(signal: T | null, general: T): T => signal ?? general;

/** Every option, in the order the README's table lists them. */
export const OPTIONS = {
  host: { env: "GRAPHBOX_HOST", doc: "Address to bind", default: "127.0.0.1", parse: text },
  port: { env: "GRAPHBOX_PORT", doc: "Port to bind (0: any free port)", default: 8000, parse: integer(0, 65535) },
  pythonPath: {
    env: "GRAPHBOX_PYTHON",
    doc: "Python of the runtime's virtual environment",
    default: join(PROJECT_ROOT, ".venv/bin/python"),
    parse: text,
  },
  defaultTimeoutMs: { env: "GRAPHBOX_DEFAULT_TIMEOUT_MS", doc: "Timeout when a request sets none", default: 60_000, parse: integer(100, 86_400_000) },
  maxTimeoutMs: { env: "GRAPHBOX_MAX_TIMEOUT_MS", doc: "Cap on a request's config.timeout_ms", default: 300_000, parse: integer(100, 86_400_000) },
  startupTimeoutMs: { env: "GRAPHBOX_STARTUP_TIMEOUT_MS", doc: "Time a runtime may take to start", default: 30_000, parse: integer(1000, 600_000) },
  pythonForkServer: { env: "GRAPHBOX_PYTHON_FORK_SERVER", doc: "1: Python executions fork from a warm parent; 0: a fresh sandbox each", default: true, parse: flag },
  warmPoolMin: { env: "GRAPHBOX_WARM_POOL_MIN", doc: "Pre-started sandboxes kept per runtime (at least)", default: 1, parse: integer(0, 256) },
  warmPoolMax: { env: "GRAPHBOX_WARM_POOL_MAX", doc: "Pre-started sandboxes kept per runtime (at most; 0: none)", default: 4, parse: integer(0, 256) },
  warmPoolMemoryMb: { env: "GRAPHBOX_WARM_POOL_MEMORY_MB", doc: "Memory (charged to their cgroups) all waiting sandboxes together may hold; pools stop growing at it", default: 1024, parse: integer(0, 1_048_576) },
  bodyLimitBytes: { env: "GRAPHBOX_BODY_LIMIT_BYTES", doc: "Largest request body", default: 1_048_576, parse: integer(1024, 1_073_741_824) },
  maxInputDepth: { env: "GRAPHBOX_MAX_INPUT_DEPTH", doc: "Deepest nesting of a request's inputs, resume and config.configurable", default: 100, parse: integer(1, 1_000) },
  maxLogBytes: { env: "GRAPHBOX_MAX_LOG_BYTES", doc: "Program prints kept in metadata.logs", default: 65_536, parse: integer(0, 67_108_864) },
  maxLogTotalBytes: { env: "GRAPHBOX_MAX_LOG_TOTAL_BYTES", doc: "Bytes a program may print in all (more: output_limit)", default: 67_108_864, parse: integer(1024, 68_719_476_736) },
  maxOutputBytes: { env: "GRAPHBOX_MAX_OUTPUT_BYTES", doc: "Largest message a program may send, and largest answer (result and debug trace together)", default: 16_777_216, parse: integer(1024, 1_073_741_824) },
  maxEvents: { env: "GRAPHBOX_MAX_EVENTS", doc: "Events one execution may send (stored and streamed)", default: 50_000, parse: integer(16, 100_000_000) },
  maxEventBytes: { env: "GRAPHBOX_MAX_EVENT_BYTES", doc: "Bytes of events one execution may send", default: 67_108_864, parse: integer(1024, 68_719_476_736) },
  recursionLimit: { env: "GRAPHBOX_RECURSION_LIMIT", doc: "Default LangGraph recursion limit", default: 25, parse: integer(1, 100_000) },
  maxCheckpointWriteBytes: { env: "GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES", doc: "Largest checkpoint write (one put, or one put_writes) a program may send", default: 8_388_608, parse: integer(1024, 1_073_741_824) },
  maxThreadCheckpointBytes: { env: "GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES", doc: "Bytes one thread's checkpoints and pending writes may hold", default: 268_435_456, parse: integer(1024, 1_099_511_627_776) },
  // A read's answer travels base64 in one frame, and the harnesses read frames of at most 64 MiB.
  maxCheckpointReadBytes: { env: "GRAPHBOX_MAX_CHECKPOINT_READ_BYTES", doc: "Bytes one checkpoint read for a program may load", default: 33_554_432, parse: integer(1024, 46_137_344) },
  checkpointListLimit: { env: "GRAPHBOX_CHECKPOINT_LIST_LIMIT", doc: "Checkpoints one list answer to a program holds (it pages for more)", default: 100, parse: integer(1, 10_000) },
  dataDir: { env: "GRAPHBOX_DATA_DIR", doc: "Directory of the embedded SQLite store", default: join(PROJECT_ROOT, ".data"), parse: text },
  sseKeepAliveMs: { env: "GRAPHBOX_SSE_KEEPALIVE_MS", doc: "Quiet time before a stream's keep-alive comment", default: 15_000, parse: integer(100, 600_000) },
  apiKeys: { env: "GRAPHBOX_API_KEYS", doc: "API keys: name=key,name2=key2", default: {} as Record<string, string>, parse: apiKeys },
  apiKeysFile: { env: "GRAPHBOX_API_KEYS_FILE", doc: "File of API keys (`name key` lines or JSON)", default: {} as Record<string, string>, parse: apiKeysFile },
  allowUnauthenticatedPublic: { env: "GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC", doc: "Allow a non-loopback bind without keys", default: false, parse: flag },
  maxConcurrent: { env: "GRAPHBOX_MAX_CONCURRENT", doc: "Executions running at once", default: DEFAULT_MAX_CONCURRENT, parse: integer(1, 10_000) },
  queueSize: { env: "GRAPHBOX_QUEUE_SIZE", doc: "Requests waiting for a slot", default: 64, parse: integer(0, 100_000) },
  queueTimeoutMs: { env: "GRAPHBOX_QUEUE_TIMEOUT_MS", doc: "Longest wait in the queue", default: 30_000, parse: integer(0, 3_600_000) },
  keyMaxConcurrent: { env: "GRAPHBOX_KEY_MAX_CONCURRENT", doc: "Executions one key may have running or queued (0: no per-key limit)", default: 0, parse: integer(0, 10_000) },
  keyRatePerMinute: { env: "GRAPHBOX_KEY_RATE_PER_MINUTE", doc: "Executions one key may start per minute (0: unlimited)", default: 0, parse: integer(0, 1_000_000) },
  shutdownGraceMs: { env: "GRAPHBOX_SHUTDOWN_GRACE_MS", doc: "Time running executions get to finish on SIGTERM", default: 30_000, parse: integer(0, 3_600_000) },
  logLevel: {
    env: "GRAPHBOX_LOG_LEVEL",
    doc: "pino log level",
    default: "info",
    parse: (raw: string) => {
      if (!LOG_LEVELS.includes(raw)) throw new Error(`expected one of ${LOG_LEVELS.join(", ")}`);
      return raw;
    },
  },
  modelAllowlist: { env: "GRAPHBOX_MODEL_ALLOWLIST", doc: "Models programs may call (comma-separated, * wildcards)", default: [] as string[], parse: list },
  upstreamTimeoutMs: { env: "GRAPHBOX_UPSTREAM_TIMEOUT_MS", doc: "Time an LLM provider may take to start answering", default: 120_000, parse: integer(100, 3_600_000) },
  maxTokensPerExecution: { env: "GRAPHBOX_MAX_TOKENS_PER_EXECUTION", doc: "Token budget cap per execution", default: 1_000_000, parse: integer(1, 1_000_000_000_000) },
  gatewayMaxBodyBytes: { env: "GRAPHBOX_GATEWAY_MAX_BODY_BYTES", doc: "Largest request body a program may send to the gateway", default: 8_388_608, parse: integer(1024, 1_073_741_824) },
  gatewayExecutionBufferBytes: { env: "GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES", doc: "Bytes the gateway may hold for one execution's calls at once", default: 33_554_432, parse: integer(1024, 17_179_869_184) },
  gatewayBufferBytes: { env: "GRAPHBOX_GATEWAY_BUFFER_BYTES", doc: "Bytes the gateway may hold for all executions together", default: 268_435_456, parse: integer(1024, 68_719_476_736) },
  gatewayExecutionConnections: { env: "GRAPHBOX_GATEWAY_EXECUTION_CONNECTIONS", doc: "Connections one execution may hold open to the gateway", default: 32, parse: integer(1, 100_000) },
  gatewayExecutionCalls: { env: "GRAPHBOX_GATEWAY_EXECUTION_CALLS", doc: "Calls one execution may have in flight through the gateway", default: 16, parse: integer(1, 100_000) },
  gatewayMaxConnections: { env: "GRAPHBOX_GATEWAY_MAX_CONNECTIONS", doc: "Connections to the gateway altogether", default: 1024, parse: integer(1, 1_000_000) },
  gatewayHeadersTimeoutMs: { env: "GRAPHBOX_GATEWAY_HEADERS_TIMEOUT_MS", doc: "Time a client may take to send a request's headers to the gateway", default: 10_000, parse: integer(100, 600_000) },
  gatewayBodyTimeoutMs: { env: "GRAPHBOX_GATEWAY_BODY_TIMEOUT_MS", doc: "Time a client may take to send a request's body to the gateway", default: 30_000, parse: integer(100, 3_600_000) },
  gatewayOutputReserveTokens: { env: "GRAPHBOX_GATEWAY_OUTPUT_RESERVE_TOKENS", doc: "Output tokens reserved for a call that declares no max_tokens", default: 4096, parse: integer(0, 1_000_000_000) },
  prices: { env: "GRAPHBOX_PRICES", doc: "USD per million tokens by model, for metadata.cost", default: {} as Record<string, { input: number; output: number }>, parse: prices },
  openaiBaseUrl: { env: "OPENAI_BASE_URL", doc: "OpenAI-compatible upstream", default: "https://api.openai.com/v1", parse: url },
  openaiApiKey: { env: "OPENAI_API_KEY", doc: "Key for the OpenAI upstream", default: null as string | null, parse: text },
  anthropicBaseUrl: { env: "ANTHROPIC_BASE_URL", doc: "Anthropic upstream", default: "https://api.anthropic.com", parse: url },
  anthropicApiKey: { env: "ANTHROPIC_API_KEY", doc: "Key for the Anthropic upstream", default: null as string | null, parse: text },
  sandboxMemoryMb: { env: "GRAPHBOX_SANDBOX_MEMORY_MB", doc: "Memory of one execution (cgroup), MiB", default: 512, parse: integer(64, 1_048_576) },
  sandboxMaxProcesses: { env: "GRAPHBOX_SANDBOX_MAX_PROCESSES", doc: "Processes and threads one execution may run at once", default: 64, parse: integer(16, 100_000) },
  sandboxCpuSeconds: { env: "GRAPHBOX_SANDBOX_CPU_SECONDS", doc: "CPU seconds each process of an execution may use", default: 60, parse: integer(1, 86_400) },
  sandboxFileSizeMb: { env: "GRAPHBOX_SANDBOX_FILE_SIZE_MB", doc: "Largest file a program may write, MiB", default: 64, parse: integer(1, 1_048_576) },
  sandboxTmpMb: { env: "GRAPHBOX_SANDBOX_TMP_MB", doc: "Size of the sandbox's /tmp (also its HOME), MiB", default: 64, parse: integer(1, 1_048_576) },
  sandboxOpenFiles: { env: "GRAPHBOX_SANDBOX_OPEN_FILES", doc: "Files each process of an execution may hold open", default: 1024, parse: integer(64, 1_048_576) },
  unsafeNoSandbox: { env: "GRAPHBOX_UNSAFE_NO_SANDBOX", doc: "1: run programs with NO isolation (local development only)", default: false, parse: flag },
  otlpEndpoint: { env: "OTEL_EXPORTER_OTLP_ENDPOINT", doc: "OTLP/HTTP collector; traces go to <url>/v1/traces (unset: no tracing)", default: null as string | null, parse: collectorUrl },
  otlpTracesEndpoint: { env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", doc: "Full OTLP/HTTP traces URL; wins over OTEL_EXPORTER_OTLP_ENDPOINT", default: null as string | null, parse: collectorUrl },
  otlpProtocol: { env: "OTEL_EXPORTER_OTLP_PROTOCOL", doc: "OTLP encoding: http/protobuf or http/json", default: "http/protobuf" as OtlpProtocol, parse: otlpProtocol },
  otlpTracesProtocol: { env: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", doc: "OTLP encoding of traces; wins over OTEL_EXPORTER_OTLP_PROTOCOL", default: null as OtlpProtocol | null, parse: otlpProtocol },
  otelServiceName: { env: "OTEL_SERVICE_NAME", doc: "service.name of the traces", default: "graphbox", parse: text },
} satisfies Record<string, Option<unknown>>;

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** Reads and checks the whole configuration; throws one ConfigError listing every problem. */
export function loadConfig(env: Env = process.env, overrides: Partial<Config> = {}): Readonly<Config> {
  const p = new Problems();
  const o = OPTIONS;
  const config: Config = {
    host: p.read(env, o.host),
    port: p.read(env, o.port),
    pythonPath: p.read(env, o.pythonPath),
    defaultTimeoutMs: p.read(env, o.defaultTimeoutMs),
    maxTimeoutMs: p.read(env, o.maxTimeoutMs),
    startupTimeoutMs: p.read(env, o.startupTimeoutMs),
    pythonForkServer: p.read(env, o.pythonForkServer),
    warmPoolMin: p.read(env, o.warmPoolMin),
    warmPoolMax: p.read(env, o.warmPoolMax),
    warmPoolMemoryMb: p.read(env, o.warmPoolMemoryMb),
    bodyLimitBytes: p.read(env, o.bodyLimitBytes),
    maxInputDepth: p.read(env, o.maxInputDepth),
    maxLogBytes: p.read(env, o.maxLogBytes),
    maxLogTotalBytes: p.read(env, o.maxLogTotalBytes),
    maxOutputBytes: p.read(env, o.maxOutputBytes),
    maxEvents: p.read(env, o.maxEvents),
    maxEventBytes: p.read(env, o.maxEventBytes),
    recursionLimit: p.read(env, o.recursionLimit),
    maxCheckpointWriteBytes: p.read(env, o.maxCheckpointWriteBytes),
    maxThreadCheckpointBytes: p.read(env, o.maxThreadCheckpointBytes),
    maxCheckpointReadBytes: p.read(env, o.maxCheckpointReadBytes),
    checkpointListLimit: p.read(env, o.checkpointListLimit),
    dataDir: p.read(env, o.dataDir),
    sseKeepAliveMs: p.read(env, o.sseKeepAliveMs),
    logLevel: p.read(env, o.logLevel),
    apiKeys: { ...p.read(env, o.apiKeysFile), ...p.read(env, o.apiKeys) },
    allowUnauthenticatedPublic: p.read(env, o.allowUnauthenticatedPublic),
    maxConcurrent: p.read(env, o.maxConcurrent),
    queueSize: p.read(env, o.queueSize),
    queueTimeoutMs: p.read(env, o.queueTimeoutMs),
    keyMaxConcurrent: p.read(env, o.keyMaxConcurrent),
    keyRatePerMinute: p.read(env, o.keyRatePerMinute),
    shutdownGraceMs: p.read(env, o.shutdownGraceMs),
    modelAllowlist: p.read(env, o.modelAllowlist),
    upstreamTimeoutMs: p.read(env, o.upstreamTimeoutMs),
    maxTokensPerExecution: p.read(env, o.maxTokensPerExecution),
    gatewayLimits: {
      maxBodyBytes: p.read(env, o.gatewayMaxBodyBytes),
      executionBufferBytes: p.read(env, o.gatewayExecutionBufferBytes),
      bufferBytes: p.read(env, o.gatewayBufferBytes),
      executionConnections: p.read(env, o.gatewayExecutionConnections),
      executionCalls: p.read(env, o.gatewayExecutionCalls),
      maxConnections: p.read(env, o.gatewayMaxConnections),
      headersTimeoutMs: p.read(env, o.gatewayHeadersTimeoutMs),
      bodyTimeoutMs: p.read(env, o.gatewayBodyTimeoutMs),
      outputReserveTokens: p.read(env, o.gatewayOutputReserveTokens),
    },
    prices: p.read(env, o.prices),
    openai: { baseUrl: p.read(env, o.openaiBaseUrl), apiKey: p.read(env, o.openaiApiKey) },
    anthropic: { baseUrl: p.read(env, o.anthropicBaseUrl), apiKey: p.read(env, o.anthropicApiKey) },
    sandbox: {
      memoryMb: p.read(env, o.sandboxMemoryMb),
      maxProcesses: p.read(env, o.sandboxMaxProcesses),
      cpuSeconds: p.read(env, o.sandboxCpuSeconds),
      fileSizeMb: p.read(env, o.sandboxFileSizeMb),
      tmpMb: p.read(env, o.sandboxTmpMb),
      openFiles: p.read(env, o.sandboxOpenFiles),
      unsafeNoSandbox: p.read(env, o.unsafeNoSandbox),
    },
    tracing: {
      endpoint: tracesEndpoint(p.read(env, o.otlpEndpoint), p.read(env, o.otlpTracesEndpoint)),
      protocol: signalFirst(p.read(env, o.otlpTracesProtocol), p.read(env, o.otlpProtocol)),
      serviceName: p.read(env, o.otelServiceName),
    },
    ...overrides,
  };
  if (config.defaultTimeoutMs > config.maxTimeoutMs) {
    p.list.push(`GRAPHBOX_DEFAULT_TIMEOUT_MS (${config.defaultTimeoutMs}) is above GRAPHBOX_MAX_TIMEOUT_MS (${config.maxTimeoutMs}); lower it or raise the maximum`);
  }
  const gateway = config.gatewayLimits;
  if (gateway.maxBodyBytes > gateway.executionBufferBytes) {
    p.list.push(`GRAPHBOX_GATEWAY_MAX_BODY_BYTES (${gateway.maxBodyBytes}) is above GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES (${gateway.executionBufferBytes}): no body that large could ever be held; lower it or raise the buffer`);
  }
  if (gateway.executionBufferBytes > gateway.bufferBytes) {
    p.list.push(`GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES (${gateway.executionBufferBytes}) is above GRAPHBOX_GATEWAY_BUFFER_BYTES (${gateway.bufferBytes}); lower it or raise the total`);
  }
  const loopback = ["127.0.0.1", "::1", "localhost"].includes(config.host) || config.host.startsWith("127.");
  if (!loopback && Object.keys(config.apiKeys).length === 0 && !config.allowUnauthenticatedPublic) {
    p.list.push(`GRAPHBOX_HOST=${config.host} is not a loopback address and no API keys are set: set GRAPHBOX_API_KEYS (or GRAPHBOX_API_KEYS_FILE), or GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC=1 if something in front of the engine authenticates`);
  }
  if (!existsSync(config.pythonPath)) {
    p.list.push(`GRAPHBOX_PYTHON: ${config.pythonPath} does not exist; run \`npm run setup\` to create the runtime's virtual environment, or point GRAPHBOX_PYTHON at a Python with requirements.lock installed`);
  }
  if (p.list.length > 0) throw new ConfigError(p.list);
  return Object.freeze(config);
}
