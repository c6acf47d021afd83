/**
 * Every option, declared once, in the order the README's table lists them. The tree's shape is
 * the Config's: a branch is a nested object its consumer takes as it is (`sandbox` is the
 * launcher's options, `tracing` the exporter's, or null when there is nowhere to export).
 */
import { cpus, totalmem } from "node:os";

import { apiKeyList, apiKeysFile } from "./api-keys.ts";
import { egressList } from "./egress.ts";
import { combined, option, type ConfigOf, type Declarations } from "./declare.ts";
import { bytes, flag, httpUrl, integer, list, mebibytes, oneOf, optional, path, postgresUrl, text } from "./kinds.ts";
import { jsPackages, pythonModules, pythonPackages } from "./package-specs.ts";
import { DEFAULT_DATA_DIR, DEFAULT_PYTHON } from "./paths.ts";
import { prices } from "./prices.ts";

const MIB = 2 ** 20;

/** Python executions take ~150 MB each and mostly wait on LLMs: bound by memory, and by cores for CPU. */
const DEFAULT_MAX_CONCURRENT = Math.max(2, Math.min(cpus().length * 8, Math.floor(totalmem() / (256 * MIB))));

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

const OTLP_PROTOCOLS = ["http/protobuf", "http/json"] as const;
const otlpProtocol = oneOf(OTLP_PROTOCOLS, {
  grpc: "grpc is not supported; use http/protobuf (the collector's OTLP/HTTP port, 4318)",
});
const collectorUrl = httpUrl("http://localhost:4318");

/** Read by two fields: the keys (apiKeys) and their egress lists (egress.keyAllow). */
const keysFile = option({
  env: "GRAPHBOX_API_KEYS_FILE",
  kind: apiKeysFile,
  default: { keys: {}, egress: new Map() },
  doc: 'file of API keys: `name key` lines (`#` comments), or a JSON object; `GRAPHBOX_API_KEYS` wins on a name in both. A line may end in `egress=host,...` (JSON: `{"name": {"key": ..., "egress": [...]}}`): that key\'s egress list, which only narrows `GRAPHBOX_EGRESS_ALLOW`',
});

export const OPTIONS = {
  host: option({ env: "GRAPHBOX_HOST", kind: text, default: "127.0.0.1", doc: "address to bind" }),
  port: option({
    env: "GRAPHBOX_PORT",
    kind: integer(0, 65_535),
    default: 8000,
    doc: "port to bind (0: any free port)",
  }),
  pythonPath: option({
    env: "GRAPHBOX_PYTHON",
    kind: path,
    default: DEFAULT_PYTHON,
    doc: "Python of the runtime's virtual environment",
  }),
  defaultTimeoutMs: option({
    env: "GRAPHBOX_DEFAULT_TIMEOUT_MS",
    kind: integer(100, 86_400_000),
    default: 60_000,
    doc: "timeout when a request sets no `config.timeout_ms`",
  }),
  maxTimeoutMs: option({
    env: "GRAPHBOX_MAX_TIMEOUT_MS",
    kind: integer(100, 86_400_000),
    default: 300_000,
    doc: "cap on a request's `config.timeout_ms` (larger values are lowered to it)",
  }),
  startupTimeoutMs: option({
    env: "GRAPHBOX_STARTUP_TIMEOUT_MS",
    kind: integer(1000, 600_000),
    default: 30_000,
    doc: "time a runtime may take to start and import LangGraph before the execution fails",
  }),
  pythonForkServer: option({
    env: "GRAPHBOX_PYTHON_FORK_SERVER",
    kind: flag,
    default: true,
    doc: "Python executions fork from a warm parent that has imported LangGraph (each child still gets its own sandbox); `0`: a fresh sandbox per execution",
  }),
  packages: {
    python: option({
      env: "GRAPHBOX_PYTHON_PACKAGES",
      kind: pythonPackages,
      default: [],
      doc: "extra PyPI packages for programs, each pinned (`tavily-python==0.7.12,six==1.17.0`): `npm run setup` installs them (wheels only) into the Python runtime with requirements.lock as constraints, so no locked package moves; the engine refuses to start until they are installed. See [Extra packages](#extra-packages)",
    }),
    js: option({
      env: "GRAPHBOX_JS_PACKAGES",
      kind: jsPackages,
      default: [],
      doc: "extra npm packages for JavaScript/TypeScript programs, each pinned (`ms@2.1.3`): `npm run setup` installs them (no install scripts) into the JS runtime's node_modules beside its lock; the engine refuses to start until they are installed",
    }),
    pythonPreimport: option({
      env: "GRAPHBOX_PYTHON_PREIMPORT",
      kind: pythonModules,
      default: [],
      doc: "modules the Python runtime imports before a job arrives (the fork server's zygote once, a fresh sandbox before `ready`), so runs do not pay their import time; a module that fails to import is left to the program's own import",
    }),
  },
  warmPoolMin: option({
    env: "GRAPHBOX_WARM_POOL_MIN",
    kind: integer(0, 256),
    default: 1,
    doc: "pre-started sandboxes kept waiting per runtime (Python: children forked from the zygote; JavaScript/TypeScript: Node processes)",
  }),
  warmPoolMax: option({
    env: "GRAPHBOX_WARM_POOL_MAX",
    kind: integer(0, 256),
    default: 4,
    doc: "at most this many (the pool grows on misses, shrinks after a minute without); `0`: no pool",
  }),
  warmPoolMemoryMb: option({
    env: "GRAPHBOX_WARM_POOL_MEMORY_MB",
    kind: integer(0, 1_048_576),
    default: 1024,
    doc: "memory (charged to their cgroups) the waiting sandboxes of all pools may hold together, MiB; a pool does not grow past it (`0`: each keeps its minimum only)",
  }),
  corsOrigins: option({
    env: "GRAPHBOX_CORS_ORIGINS",
    kind: list,
    default: [],
    doc: "origins a browser page may call the API from (a chat UI such as agent-chat-ui, served elsewhere): `https://ui.example.com,...`, or `*` for any; empty: no CORS headers, so browsers refuse cross-origin calls. The API key is still needed on every call",
  }),
  bodyLimitBytes: option({
    env: "GRAPHBOX_BODY_LIMIT_BYTES",
    kind: bytes(1024, 1_073_741_824),
    default: 1_048_576,
    doc: "largest request body",
  }),
  /** Default 100: the engine's JSON encoder overflows its stack near 5,000 levels, Python's decoder near 1,000. */
  maxInputDepth: option({
    env: "GRAPHBOX_MAX_INPUT_DEPTH",
    kind: integer(1, 1_000),
    default: 100,
    doc: "deepest nesting of arrays and objects in a request's `inputs`, `resume`, `config.configurable` and `config.context`; deeper is a 400",
  }),
  maxFiles: option({
    env: "GRAPHBOX_MAX_FILES",
    kind: integer(0, 10_000),
    default: 64,
    doc: "files a request's `files` may hold beside `code` (more: 400); `0`: programs are one file",
  }),
  maxFilesBytes: option({
    env: "GRAPHBOX_MAX_FILES_BYTES",
    kind: bytes(0, 1_073_741_824),
    default: 4_194_304,
    doc: "bytes (UTF-8) of a request's `files` together, names and sources (more: 400)",
  }),
  maxGraphsPerKey: option({
    env: "GRAPHBOX_MAX_GRAPHS_PER_KEY",
    kind: integer(0, 1_000_000),
    default: 100,
    doc: "programs one API key may keep registered (`PUT /graphs/{graph_id}`; more: 409); `0`: none",
  }),
  maxAssistantsPerKey: option({
    env: "GRAPHBOX_MAX_ASSISTANTS_PER_KEY",
    kind: integer(0, 1_000_000),
    default: 1000,
    doc: "assistants one API key may keep, each registered graph's own counted (`POST /assistants` past it: 409)",
  }),
  maxLogBytes: option({
    env: "GRAPHBOX_MAX_LOG_BYTES",
    kind: bytes(0, 67_108_864),
    default: 65_536,
    doc: "program prints (stdout and stderr together) kept in `metadata.logs`; the rest is cut",
  }),
  maxLogTotalBytes: option({
    env: "GRAPHBOX_MAX_LOG_TOTAL_BYTES",
    kind: bytes(1024, 68_719_476_736),
    default: 67_108_864,
    doc: "bytes a program may print in all, kept or dropped (reading them is the engine's work); over it: `output_limit`",
  }),
  maxOutputBytes: option({
    env: "GRAPHBOX_MAX_OUTPUT_BYTES",
    kind: bytes(1024, 1_073_741_824),
    default: 16_777_216,
    doc: "largest message a program may send, and largest answer (the result with the thread head's LangGraph `ThreadState`, which repeats the state, and `config.debug`'s trace together); over it: `output_limit`",
  }),
  maxEvents: option({
    env: "GRAPHBOX_MAX_EVENTS",
    kind: integer(16, 100_000_000),
    default: 50_000,
    doc: "events one execution may send (stored and streamed); over it: `output_limit`",
  }),
  maxEventBytes: option({
    env: "GRAPHBOX_MAX_EVENT_BYTES",
    kind: bytes(1024, 68_719_476_736),
    default: 67_108_864,
    doc: "bytes of events one execution may send (their frames, summed); over it: `output_limit`",
  }),
  recursionLimit: option({
    env: "GRAPHBOX_RECURSION_LIMIT",
    kind: integer(1, 100_000),
    default: 25,
    doc: "default LangGraph recursion limit",
  }),
  maxCheckpointWriteBytes: option({
    env: "GRAPHBOX_MAX_CHECKPOINT_WRITE_BYTES",
    kind: bytes(1024, 1_073_741_824),
    default: 8_388_608,
    doc: "largest checkpoint write (one put, or one put_writes) a program may send; over it the run ends with `output_limit`",
  }),
  maxThreadCheckpointBytes: option({
    env: "GRAPHBOX_MAX_THREAD_CHECKPOINT_BYTES",
    kind: bytes(1024, 1_099_511_627_776),
    default: 268_435_456,
    doc: "bytes one thread's checkpoints and pending writes may hold; a write past it ends the run with `output_limit` (delete the thread, or start another, to go on)",
  }),
  /** At most 44 MiB: a read's answer travels base64 in one frame, and the harnesses read frames of at most 64 MiB. */
  maxCheckpointReadBytes: option({
    env: "GRAPHBOX_MAX_CHECKPOINT_READ_BYTES",
    kind: bytes(1024, 46_137_344),
    default: 33_554_432,
    doc: "bytes one checkpoint read for a program may load (a checkpoint with its pending writes, or a page of a list); over it the run ends with `output_limit`",
  }),
  checkpointListLimit: option({
    env: "GRAPHBOX_CHECKPOINT_LIST_LIMIT",
    kind: integer(1, 10_000),
    default: 100,
    doc: "checkpoints one list answer to a program holds (the harness pages for more)",
  }),
  /** At most 16 MiB: a store search answers up to 16 MiB of items in one frame (see engine/store-requests.ts). */
  storeMaxItemBytes: option({
    env: "GRAPHBOX_STORE_MAX_ITEM_BYTES",
    kind: bytes(1024, 16_777_216),
    default: 65_536,
    doc: "largest value (as JSON) of one item of the long-term memory store (LangGraph's BaseStore); a larger put is refused (the program sees an exception, HTTP answers 422)",
  }),
  storeMaxItems: option({
    env: "GRAPHBOX_STORE_MAX_ITEMS",
    kind: integer(1, 10_000_000),
    default: 10_000,
    doc: "items one API key may keep in the long-term memory store; a put of a new item past it is refused (updates and deletes go on)",
  }),
  logLevel: option({ env: "GRAPHBOX_LOG_LEVEL", kind: oneOf(LOG_LEVELS), default: "info", doc: "pino log level" }),
  dataDir: option({
    env: "GRAPHBOX_DATA_DIR",
    kind: path,
    default: DEFAULT_DATA_DIR,
    doc: "directory of the embedded SQLite store",
  }),
  databaseUrl: option({
    env: "GRAPHBOX_DATABASE_URL",
    kind: optional(postgresUrl),
    default: null,
    doc: "PostgreSQL to keep everything in instead of SQLite, shared by every engine given the same URL (password login over TCP; the schema is migrated at start); never logged with its password",
  }),
  databasePoolSize: option({
    env: "GRAPHBOX_DATABASE_POOL_SIZE",
    kind: integer(1, 1000),
    default: 10,
    doc: "connections to PostgreSQL the engine keeps at most (one more listens for other engines' signals)",
  }),
  sseKeepAliveMs: option({
    env: "GRAPHBOX_SSE_KEEPALIVE_MS",
    kind: integer(100, 600_000),
    default: 15_000,
    doc: "quiet time before a stream's `: keepalive` comment",
  }),
  /** API keys by name. None: no auth, and the engine binds only a loopback address. */
  apiKeys: combined({
    from: {
      list: option({
        env: "GRAPHBOX_API_KEYS",
        kind: apiKeyList,
        default: {},
        doc: "API keys, `name=key,name2=key2` (at least 16 characters each; a bare key is named `key1`, `key2`… by position); none: no auth, loopback only",
      }),
      file: keysFile,
    },
    combine: ({ list, file }) => ({ ...file.keys, ...list }),
  }),
  allowUnauthenticatedPublic: option({
    env: "GRAPHBOX_ALLOW_UNAUTHENTICATED_PUBLIC",
    kind: flag,
    default: false,
    doc: "`1` lets an engine without keys bind a non-loopback address",
  }),
  maxConcurrent: option({
    env: "GRAPHBOX_MAX_CONCURRENT",
    kind: integer(1, 10_000),
    default: DEFAULT_MAX_CONCURRENT,
    shownDefault: "8 × cores, at most memory / 256 MiB (at least 2)",
    doc: "executions running at once",
  }),
  queueSize: option({
    env: "GRAPHBOX_QUEUE_SIZE",
    kind: integer(0, 100_000),
    default: 64,
    doc: "requests waiting for a slot (more: 503)",
  }),
  queueTimeoutMs: option({
    env: "GRAPHBOX_QUEUE_TIMEOUT_MS",
    kind: integer(0, 3_600_000),
    default: 30_000,
    doc: "longest wait for a slot (then 503)",
  }),
  keyMaxConcurrent: option({
    env: "GRAPHBOX_KEY_MAX_CONCURRENT",
    kind: integer(0, 10_000),
    default: 0,
    shownDefault: "`0` (no per-key limit)",
    doc: "executions one key may have running or queued (more: 429); unset, one key may fill every slot and the queue",
  }),
  keyRatePerMinute: option({
    env: "GRAPHBOX_KEY_RATE_PER_MINUTE",
    kind: integer(0, 1_000_000),
    default: 0,
    shownDefault: "`0` (unlimited)",
    doc: "executions one key may start per minute (more: 429)",
  }),
  engineLeaseMs: option({
    env: "GRAPHBOX_ENGINE_LEASE_MS",
    kind: integer(1000, 600_000),
    default: 15_000,
    doc: "an engine's lease in the database, renewed every third of it: when it lapses (the engine died), a peer fails its running executions and frees their threads",
  }),
  clusterPollMs: option({
    env: "GRAPHBOX_CLUSTER_POLL_MS",
    kind: integer(50, 60_000),
    default: 500,
    doc: "how often an engine looks for cancels asked of it and runs queued for any engine, besides being signalled (a lost signal, SQLite shared by processes)",
  }),
  shutdownGraceMs: option({
    env: "GRAPHBOX_SHUTDOWN_GRACE_MS",
    kind: integer(0, 3_600_000),
    default: 30_000,
    doc: "time running executions get to finish on SIGTERM (then they are cancelled)",
  }),
  modelAllowlist: option({
    env: "GRAPHBOX_MODEL_ALLOWLIST",
    kind: list,
    default: [],
    shownDefault: "any",
    doc: "models programs may call, comma-separated, `*` wildcards",
  }),
  upstreamTimeoutMs: option({
    env: "GRAPHBOX_UPSTREAM_TIMEOUT_MS",
    kind: integer(100, 3_600_000),
    default: 120_000,
    doc: "time an LLM provider may take to start answering",
  }),
  maxTokensPerExecution: option({
    env: "GRAPHBOX_MAX_TOKENS_PER_EXECUTION",
    kind: integer(1, 1_000_000_000_000),
    default: 1_000_000,
    doc: "token budget cap; `config.max_tokens` may only lower it",
  }),
  /** What one execution (and all of them) may hold of the gateway: bytes, connections, calls, time. */
  gatewayLimits: {
    maxBodyBytes: option({
      env: "GRAPHBOX_GATEWAY_MAX_BODY_BYTES",
      kind: bytes(1024, 1_073_741_824),
      default: 8_388_608,
      doc: "largest request body a program may send to the gateway (413)",
    }),
    executionBufferBytes: option({
      env: "GRAPHBOX_GATEWAY_EXECUTION_BUFFER_BYTES",
      kind: bytes(1024, 17_179_869_184),
      default: 33_554_432,
      doc: "bytes the gateway may hold for one execution's calls at once: bodies, answers read for usage (429)",
    }),
    bufferBytes: option({
      env: "GRAPHBOX_GATEWAY_BUFFER_BYTES",
      kind: bytes(1024, 68_719_476_736),
      default: 268_435_456,
      doc: "bytes the gateway may hold for all executions together (503)",
    }),
    executionConnections: option({
      env: "GRAPHBOX_GATEWAY_EXECUTION_CONNECTIONS",
      kind: integer(1, 100_000),
      default: 32,
      doc: "connections one execution may hold open to the gateway (429)",
    }),
    executionCalls: option({
      env: "GRAPHBOX_GATEWAY_EXECUTION_CALLS",
      kind: integer(1, 100_000),
      default: 16,
      doc: "calls one execution may have in flight through the gateway (429)",
    }),
    maxConnections: option({
      env: "GRAPHBOX_GATEWAY_MAX_CONNECTIONS",
      kind: integer(1, 1_000_000),
      default: 1024,
      doc: "connections to each of the gateway's listeners altogether, before any credential is known (more are dropped)",
    }),
    headersTimeoutMs: option({
      env: "GRAPHBOX_GATEWAY_HEADERS_TIMEOUT_MS",
      kind: integer(100, 600_000),
      default: 10_000,
      doc: "time a client may take to send a request's headers to the gateway (408)",
    }),
    bodyTimeoutMs: option({
      env: "GRAPHBOX_GATEWAY_BODY_TIMEOUT_MS",
      kind: integer(100, 3_600_000),
      default: 30_000,
      doc: "time a client may take to send a request's body to the gateway (408)",
    }),
    outputReserveTokens: option({
      env: "GRAPHBOX_GATEWAY_OUTPUT_RESERVE_TOKENS",
      kind: integer(0, 1_000_000_000),
      default: 4096,
      doc: "output tokens reserved from the budget for a call that declares no `max_tokens`",
    }),
  },
  prices: option({
    env: "GRAPHBOX_PRICES",
    kind: prices,
    default: {},
    doc: 'JSON `{"model": {"input": usd_per_mtok, "output": usd_per_mtok}}` for `metadata.cost`',
  }),
  /** The egress proxy (src/egress/): where programs may connect besides the gateway, and what one execution may use of it. */
  egress: {
    allow: option({
      env: "GRAPHBOX_EGRESS_ALLOW",
      kind: egressList,
      default: [],
      shownDefault: "none: no egress",
      doc: "hosts programs may reach through the egress proxy: `host[:port]` patterns (`*.example.com`, `*`; no port: 80 and 443; `:*` any). Private, loopback, link-local and metadata addresses stay refused unless the exact address is listed. Empty: no egress at all",
    }),
    keyAllow: combined({ from: { file: keysFile }, combine: ({ file }) => file.egress }),
    executionConnections: option({
      env: "GRAPHBOX_EGRESS_EXECUTION_CONNECTIONS",
      kind: integer(1, 10_000),
      default: 16,
      doc: "egress connections one execution may hold open at once (more are refused: 429)",
    }),
    executionBytesIn: option({
      env: "GRAPHBOX_EGRESS_EXECUTION_BYTES_IN",
      kind: bytes(1024, 1_099_511_627_776),
      default: 268_435_456,
      doc: "bytes one execution may receive through the egress proxy (more ends it: `GBX_ERR_EGRESS_LIMIT`)",
    }),
    executionBytesOut: option({
      env: "GRAPHBOX_EGRESS_EXECUTION_BYTES_OUT",
      kind: bytes(1024, 1_099_511_627_776),
      default: 67_108_864,
      doc: "bytes one execution may send through the egress proxy (more ends it: `GBX_ERR_EGRESS_LIMIT`)",
    }),
    connectionTimeoutMs: option({
      env: "GRAPHBOX_EGRESS_CONNECTION_TIMEOUT_MS",
      kind: integer(100, 86_400_000),
      default: 120_000,
      doc: "time one egress connection may stay open (then it is closed; an answer not yet started gets 504)",
    }),
  },
  /** Upstream LLM providers: the gateway forwards to these with the keys. */
  openai: {
    baseUrl: option({
      env: "OPENAI_BASE_URL",
      kind: httpUrl("https://api.openai.com/v1"),
      default: "https://api.openai.com/v1",
      doc: "OpenAI-compatible upstream",
    }),
    apiKey: option({ env: "OPENAI_API_KEY", kind: optional(text), default: null, doc: "key for the OpenAI upstream" }),
  },
  anthropic: {
    baseUrl: option({
      env: "ANTHROPIC_BASE_URL",
      kind: httpUrl("https://api.anthropic.com"),
      default: "https://api.anthropic.com",
      doc: "Anthropic upstream",
    }),
    apiKey: option({
      env: "ANTHROPIC_API_KEY",
      kind: optional(text),
      default: null,
      doc: "key for the Anthropic upstream",
    }),
  },
  /** Isolation and limits of every execution's sandbox: what the sandbox launcher takes. */
  sandbox: {
    memoryBytes: option({
      env: "GRAPHBOX_SANDBOX_MEMORY_MB",
      kind: mebibytes(64, 1_048_576),
      default: 512 * MIB,
      doc: "memory of one execution's process tree (cgroup); over it: `memory_limit`",
    }),
    maxProcesses: option({
      env: "GRAPHBOX_SANDBOX_MAX_PROCESSES",
      kind: integer(16, 100_000),
      default: 64,
      doc: "processes and threads one execution may run at once (cgroup pids); over it: `resource_limit`",
    }),
    cpuSeconds: option({
      env: "GRAPHBOX_SANDBOX_CPU_SECONDS",
      kind: integer(1, 86_400),
      default: 60,
      doc: "CPU seconds each process of an execution may use (RLIMIT_CPU)",
    }),
    fileSizeBytes: option({
      env: "GRAPHBOX_SANDBOX_FILE_SIZE_MB",
      kind: mebibytes(1, 1_048_576),
      default: 64 * MIB,
      doc: "largest file a program may write (RLIMIT_FSIZE)",
    }),
    tmpSizeBytes: option({
      env: "GRAPHBOX_SANDBOX_TMP_MB",
      kind: mebibytes(1, 1_048_576),
      default: 64 * MIB,
      doc: "size of the sandbox's `/tmp` (its HOME and working directory too)",
    }),
    /** Default 1024: at 256 the JS harness failed now and then with EMFILE while Node's ESM loader read @anthropic-ai/sdk's files in parallel. */
    openFiles: option({
      env: "GRAPHBOX_SANDBOX_OPEN_FILES",
      kind: integer(64, 1_048_576),
      default: 1024,
      doc: "files each process of an execution may hold open (RLIMIT_NOFILE)",
    }),
    unsafeNoSandbox: option({
      env: "GRAPHBOX_UNSAFE_NO_SANDBOX",
      kind: flag,
      default: false,
      doc: "`1` runs programs with **no isolation at all**, as plain child processes; local development only (see `docs/security.md`)",
    }),
  },
  /** OpenTelemetry trace export (OTLP/HTTP); null when no endpoint is set. */
  tracing: combined({
    from: {
      endpoint: option({
        env: "OTEL_EXPORTER_OTLP_ENDPOINT",
        kind: optional(collectorUrl),
        default: null,
        shownDefault: "none (no tracing)",
        doc: "OTLP/HTTP collector, e.g. `http://localhost:4318`; traces go to `<url>/v1/traces`",
      }),
      tracesEndpoint: option({
        env: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        kind: optional(collectorUrl),
        default: null,
        doc: "full OTLP/HTTP traces URL; wins over `OTEL_EXPORTER_OTLP_ENDPOINT`",
      }),
      protocol: option({
        env: "OTEL_EXPORTER_OTLP_PROTOCOL",
        kind: otlpProtocol,
        default: "http/protobuf",
        doc: "encoding of the export (OTLP's default is `http/protobuf`; `grpc` is refused)",
      }),
      tracesProtocol: option({
        env: "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        kind: optional(otlpProtocol),
        default: null,
        doc: "the same for traces; wins over `OTEL_EXPORTER_OTLP_PROTOCOL`",
      }),
      serviceName: option({
        env: "OTEL_SERVICE_NAME",
        kind: text,
        default: "graphbox",
        doc: "`service.name` of the traces",
      }),
    },
    // Per the OTLP exporter spec: a signal's endpoint is used as given, the general one gets /v1/traces.
    combine: ({ endpoint, tracesEndpoint, protocol, tracesProtocol, serviceName }) => {
      const url = tracesEndpoint ?? (endpoint === null ? null : `${endpoint}/v1/traces`);
      return url === null ? null : { endpoint: url, protocol: tracesProtocol ?? protocol, serviceName };
    },
  }),
} satisfies Declarations;

export type Config = ConfigOf<typeof OPTIONS>;
