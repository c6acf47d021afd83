/**
 * The engine's configuration: one schema, read from environment variables once at start,
 * every problem reported at once by the variable's name, then frozen.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project's root directory (where package.json lives). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

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
  /** Largest request body accepted. Default 1 MiB. */
  bodyLimitBytes: number;
  /** Program prints kept for metadata.logs (stdout and stderr together); the rest is cut. Default 64 KiB. */
  maxLogBytes: number;
  /** Largest single message (result, event) a harness may send. Default 16 MiB. */
  maxOutputBytes: number;
  /** Default LangGraph recursion limit. Default 25. */
  recursionLimit: number;
  /** Directory of the embedded store (SQLite). Default <root>/.data. */
  dataDir: string;
  /** Quiet time after which a stream sends a keep-alive comment. Default 15000. */
  sseKeepAliveMs: number;
  /** pino log level. Default info. */
  logLevel: string;
  /** Models a program may call through the gateway (`*` wildcards); empty: any. */
  modelAllowlist: string[];
  /** Time the gateway waits for an upstream provider to start answering. Default 120000. */
  upstreamTimeoutMs: number;
  /** Tokens one execution may use; a request's config.max_tokens may only lower it. Default 1000000. */
  maxTokensPerExecution: number;
  /** Optional prices per million tokens by model, for metadata.cost. */
  prices: Record<string, { input: number; output: number }>;
  /** Upstream LLM providers (the gateway forwards to these with the keys). */
  openai: { baseUrl: string; apiKey: string | null };
  anthropic: { baseUrl: string; apiKey: string | null };
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
  bodyLimitBytes: { env: "GRAPHBOX_BODY_LIMIT_BYTES", doc: "Largest request body", default: 1_048_576, parse: integer(1024, 1_073_741_824) },
  maxLogBytes: { env: "GRAPHBOX_MAX_LOG_BYTES", doc: "Program prints kept in metadata.logs", default: 65_536, parse: integer(0, 67_108_864) },
  maxOutputBytes: { env: "GRAPHBOX_MAX_OUTPUT_BYTES", doc: "Largest result or event a program may send", default: 16_777_216, parse: integer(1024, 1_073_741_824) },
  recursionLimit: { env: "GRAPHBOX_RECURSION_LIMIT", doc: "Default LangGraph recursion limit", default: 25, parse: integer(1, 100_000) },
  dataDir: { env: "GRAPHBOX_DATA_DIR", doc: "Directory of the embedded SQLite store", default: join(PROJECT_ROOT, ".data"), parse: text },
  sseKeepAliveMs: { env: "GRAPHBOX_SSE_KEEPALIVE_MS", doc: "Quiet time before a stream's keep-alive comment", default: 15_000, parse: integer(100, 600_000) },
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
  prices: { env: "GRAPHBOX_PRICES", doc: "USD per million tokens by model, for metadata.cost", default: {} as Record<string, { input: number; output: number }>, parse: prices },
  openaiBaseUrl: { env: "OPENAI_BASE_URL", doc: "OpenAI-compatible upstream", default: "https://api.openai.com/v1", parse: url },
  openaiApiKey: { env: "OPENAI_API_KEY", doc: "Key for the OpenAI upstream", default: null as string | null, parse: text },
  anthropicBaseUrl: { env: "ANTHROPIC_BASE_URL", doc: "Anthropic upstream", default: "https://api.anthropic.com", parse: url },
  anthropicApiKey: { env: "ANTHROPIC_API_KEY", doc: "Key for the Anthropic upstream", default: null as string | null, parse: text },
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
    bodyLimitBytes: p.read(env, o.bodyLimitBytes),
    maxLogBytes: p.read(env, o.maxLogBytes),
    maxOutputBytes: p.read(env, o.maxOutputBytes),
    recursionLimit: p.read(env, o.recursionLimit),
    dataDir: p.read(env, o.dataDir),
    sseKeepAliveMs: p.read(env, o.sseKeepAliveMs),
    logLevel: p.read(env, o.logLevel),
    modelAllowlist: p.read(env, o.modelAllowlist),
    upstreamTimeoutMs: p.read(env, o.upstreamTimeoutMs),
    maxTokensPerExecution: p.read(env, o.maxTokensPerExecution),
    prices: p.read(env, o.prices),
    openai: { baseUrl: p.read(env, o.openaiBaseUrl), apiKey: p.read(env, o.openaiApiKey) },
    anthropic: { baseUrl: p.read(env, o.anthropicBaseUrl), apiKey: p.read(env, o.anthropicApiKey) },
    ...overrides,
  };
  if (config.defaultTimeoutMs > config.maxTimeoutMs) {
    p.list.push(`GRAPHBOX_DEFAULT_TIMEOUT_MS (${config.defaultTimeoutMs}) is above GRAPHBOX_MAX_TIMEOUT_MS (${config.maxTimeoutMs}); lower it or raise the maximum`);
  }
  if (!existsSync(config.pythonPath)) {
    p.list.push(`GRAPHBOX_PYTHON: ${config.pythonPath} does not exist; run \`npm run setup\` to create the runtime's virtual environment, or point GRAPHBOX_PYTHON at a Python with requirements.lock installed`);
  }
  if (p.list.length > 0) throw new ConfigError(p.list);
  return Object.freeze(config);
}
