/** `graphbox`: run a program against an engine and watch it, resume a thread, read its history, start an engine. */
import { readFileSync } from "node:fs";
import { extname, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

import { GraphboxClient } from "../client.ts";
import { GraphboxError, GraphboxStreamError } from "../errors.ts";
import { isTerminal, outcomeOf, type StreamEvent } from "../events.ts";
import type { ExecuteRequest } from "../generated.ts";
import type { ExecuteResponse, Language } from "../types.ts";
import { EXIT, UsageError } from "./exit-codes.ts";
import { serve } from "./serve.ts";
import { rememberThread, threadFile } from "./thread-files.ts";
import { LiveTimeline, printOutcome, printTimings, type Output } from "./timeline.ts";

export const USAGE = `graphbox: run LangGraph programs on a Graphbox engine

  graphbox run FILE [--input JSON|@file] [--thread ID] [--stream] [--breakpoint NODE]... [--json]
  graphbox resume THREAD [--input JSON|@file] [--resume JSON|@file] [--file FILE] [--stream] [--json]
  graphbox history THREAD [--limit N] [--json]
  graphbox describe FILE [--json]
  graphbox serve [--port PORT]

  --url URL   the engine (default $GRAPHBOX_URL, else http://127.0.0.1:8000)
  --key KEY   its API key (default $GRAPHBOX_API_KEY)
  --json      machine-readable output on stdout (with --stream: one event per line)

The language comes from FILE's extension (.py, .js/.mjs, .ts/.mts) unless --language says.
Exit codes: 0 success, 1 the program failed, 2 usage, 3 interrupted (resume it),
4 the engine refused the request (HTTP error), 5 the engine unreachable or the stream broken.
`;

const COMMON = {
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const satisfies ParseArgsConfig["options"];

const RUN = {
  ...COMMON,
  input: { type: "string" },
  resume: { type: "string" },
  thread: { type: "string" },
  stream: { type: "boolean", default: false },
  breakpoint: { type: "string", multiple: true },
  language: { type: "string" },
  checkpoint: { type: "string" },
  file: { type: "string" },
} as const satisfies ParseArgsConfig["options"];

const EXTENSIONS: Record<string, Language> = {
  ".py": "python",
  ".js": "javascript",
  ".mjs": "javascript",
  ".ts": "typescript",
  ".mts": "typescript",
};

const stdio: Output = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};

/** Runs one command line and answers its exit code; never throws. */
export async function main(argv: string[], output: Output = stdio): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await run(rest, output);
      case "resume":
        return await resume(rest, output);
      case "history":
        return await history(rest, output);
      case "describe":
        return await describe(rest, output);
      case "serve":
        return await serve(rest);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        output.out(USAGE);
        return command === undefined ? EXIT.usage : EXIT.success;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err: unknown) {
    return failure(err, output, argv.includes("--json"));
  }
}

function failure(err: unknown, output: Output, json: boolean): number {
  if (err instanceof GraphboxError) {
    if (json)
      output.out(
        `${JSON.stringify({ http_status: err.status, ...(typeof err.body === "object" ? err.body : { error: err.message }) })}\n`,
      );
    output.err(`graphbox: the engine refused: HTTP ${err.status} ${err.code}: ${err.message}\n`);
    return EXIT.refused;
  }
  if (
    err instanceof UsageError ||
    (err instanceof TypeError && "code" in err && String(err.code).startsWith("ERR_PARSE_ARGS"))
  ) {
    output.err(`graphbox: ${err.message} (graphbox --help lists the commands)\n`);
    return EXIT.usage;
  }
  if (err instanceof GraphboxStreamError) {
    output.err(`graphbox: ${err.message} (last event ${err.lastEventId})\n`);
    return EXIT.unreachable;
  }
  const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
  output.err(`graphbox: could not reach the engine: ${err instanceof Error ? err.message : String(err)}${cause}\n`);
  return EXIT.unreachable;
}

function clientOf(values: { url?: string | undefined; key?: string | undefined }): GraphboxClient {
  const url = values.url ?? process.env["GRAPHBOX_URL"] ?? "http://127.0.0.1:8000";
  const apiKey = values.key ?? process.env["GRAPHBOX_API_KEY"];
  return new GraphboxClient({ url, ...(apiKey ? { apiKey } : {}) });
}

/** A JSON value from the command line: inline, or `@file`. */
function jsonArgument(name: string, value: string | undefined, { lenient = false } = {}): unknown {
  if (value === undefined) return undefined;
  const text = value.startsWith("@") ? readText(value.slice(1)) : value;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A resume answer may be a bare word: `--resume yes`.
    if (lenient && !value.startsWith("@")) return value;
    throw new UsageError(`--${name} is not JSON: ${text.slice(0, 80)}`);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err: unknown) {
    throw new UsageError(`cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function languageOf(file: string, given: string | undefined): Language {
  const language = given ?? EXTENSIONS[extname(file).toLowerCase()];
  if (language !== "python" && language !== "javascript" && language !== "typescript")
    throw new UsageError(`cannot tell the language of ${file}: name it .py, .js or .ts, or pass --language`);
  return language;
}

type RunValues = ReturnType<typeof parseRun>["values"];
const parseRun = (args: string[]) => parseArgs({ args, options: RUN, allowPositionals: true, strict: true });

async function run(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parseRun(args);
  if (values.help) return help(output);
  if (positionals.length !== 1) throw new UsageError("run takes one FILE");
  const file = resolve(positionals[0]!);
  return execute({
    file,
    language: languageOf(file, values.language),
    values,
    output,
    inputs: jsonArgument("input", values.input) ?? {},
  });
}

async function resume(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parseRun(args);
  if (values.help) return help(output);
  if (positionals.length !== 1) throw new UsageError("resume takes one THREAD");
  const thread = positionals[0]!;
  const remembered = values.file ? null : threadFile(thread);
  const file = values.file ? resolve(values.file) : remembered?.file;
  if (!file) throw new UsageError(`no file is known for thread ${JSON.stringify(thread)}: pass --file FILE`);
  return execute({
    file,
    language: languageOf(file, values.language ?? remembered?.language),
    values: { ...values, thread, url: values.url ?? remembered?.url },
    output,
    // Neither: go on from the thread's last checkpoint (after a breakpoint).
    inputs: jsonArgument("input", values.input) ?? null,
  });
}

async function execute(options: {
  file: string;
  language: Language;
  values: RunValues;
  output: Output;
  inputs: unknown;
}): Promise<number> {
  const { file, language, values, output } = options;
  const client = clientOf(values);
  const resumeValue = jsonArgument("resume", values.resume, { lenient: true });
  const request: ExecuteRequest = {
    code: readText(file),
    language,
    inputs: options.inputs,
    ...(resumeValue !== undefined ? { resume: resumeValue } : {}),
    config: {
      ...(values.thread ? { thread_id: values.thread } : {}),
      ...(values.breakpoint ? { breakpoints: values.breakpoint } : {}),
      ...(values.checkpoint ? { checkpoint_id: values.checkpoint } : {}),
    },
  };
  let response: ExecuteResponse | null = null;
  if (values.stream) {
    const timeline = new LiveTimeline(output);
    for await (const event of client.stream(request)) {
      if (values.json) output.out(`${JSON.stringify(event)}\n`);
      else timeline.event(event);
      if (isTerminal(event)) response = outcomeOf(event);
      if (event.event === "metadata") remember(event, file, language, client);
    }
  } else {
    response = await client.execute(request);
    if (values.json) output.out(`${JSON.stringify(response)}\n`);
    else {
      const metadata = response.status === "error" ? response.metadata : response.result.metadata;
      if (metadata) printTimings(metadata, output);
    }
    const threadId = response.status === "error" ? response.metadata?.thread_id : response.result.metadata.thread_id;
    if (threadId) rememberThread(threadId, { file, language, url: client.url });
  }
  if (!response)
    throw new GraphboxStreamError({
      message: "the stream ended without an outcome",
      executionId: null,
      lastEventId: 0,
    });
  if (!values.json) printOutcome(response, output);
  return response.status === "success"
    ? EXIT.success
    : response.status === "interrupted"
      ? EXIT.interrupted
      : EXIT.programError;
}

function remember(
  event: Extract<StreamEvent, { event: "metadata" }>,
  file: string,
  language: Language,
  client: GraphboxClient,
): void {
  rememberThread(event.data.thread_id, { file, language, url: client.url });
}

async function history(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...COMMON, limit: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return help(output);
  if (positionals.length !== 1) throw new UsageError("history takes one THREAD");
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1 && limit <= 1000))
    throw new UsageError("--limit takes a whole number from 1 to 1000");
  const answer = await clientOf(values).threads.history(positionals[0]!, limit === undefined ? {} : { limit });
  if (values.json) {
    output.out(`${JSON.stringify(answer)}\n`);
    return EXIT.success;
  }
  output.out(`thread ${answer.thread_id}: ${answer.checkpoints.length} checkpoints, newest first\n`);
  for (const c of answer.checkpoints) {
    const step = String(c.step ?? "-").padStart(4);
    const values = JSON.stringify(c.values) ?? "null";
    output.out(
      `${step}  ${(c.source ?? "-").padEnd(6)} ${c.checkpoint_id}  ${c.created_at}  ${values.length > 100 ? `${values.slice(0, 99)}…` : values}\n`,
    );
  }
  return EXIT.success;
}

async function describe(args: string[], output: Output): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...COMMON, language: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return help(output);
  if (positionals.length !== 1) throw new UsageError("describe takes one FILE");
  const file = resolve(positionals[0]!);
  const answer = await clientOf(values).describe({ code: readText(file), language: languageOf(file, values.language) });
  if (values.json) output.out(`${JSON.stringify(answer)}\n`);
  else {
    output.out(`nodes: ${answer.graph.nodes.map((n) => n.id).join(", ")}\n`);
    for (const e of answer.graph.edges) output.out(`  ${e.source} ${e.conditional ? "-->" : "->"} ${e.target}\n`);
  }
  return EXIT.success;
}

function help(output: Output): number {
  output.out(USAGE);
  return EXIT.success;
}
