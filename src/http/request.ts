/** Turns a validated HTTP body into the engine's ExecutionRequest: defaults, caps, language. */
import { randomUUID } from "node:crypto";

import { parseEgressList } from "../config/egress.ts";
import type { Config } from "../config/index.ts";
import { detectLanguage } from "../engine/language.ts";
import type { Breakpoint, ExecutionRequest, Language } from "../contract/types.ts";
import { GraphboxError } from "../contract/errors.ts";
import { nestedDeeperThan } from "../contract/json.ts";
import { programFiles } from "./files.ts";
import type { ExecuteBody } from "./schemas.ts";

export { nestedDeeperThan };

/** The language the request names, or the one its source shows; GBX_ERR_LANGUAGE_UNDETECTED when neither says. */
export function programLanguage(code: string, language: Language | undefined): Language {
  const found = language ?? detectLanguage(code);
  if (found === null) {
    throw new GraphboxError(
      "GBX_ERR_LANGUAGE_UNDETECTED",
      "`language` is absent and the source does not tell whether it is Python or JavaScript/TypeScript; set `language` to python, javascript or typescript",
    );
  }
  return found;
}

export function toExecutionRequest(body: ExecuteBody, config: Readonly<Config>, stream: boolean): ExecutionRequest {
  if (body.code.trim() === "") throw new GraphboxError("GBX_ERR_INVALID_REQUEST", "`code` must not be empty");
  for (const [field, value] of [
    ["inputs", body.inputs],
    ["resume", body.resume],
    ["config.configurable", body.config?.configurable],
    ["config.context", body.config?.context],
  ] as const) {
    if (nestedDeeperThan(value, config.maxInputDepth)) {
      throw new GraphboxError(
        "GBX_ERR_INVALID_REQUEST",
        `\`${field}\` is nested deeper than GRAPHBOX_MAX_INPUT_DEPTH (${config.maxInputDepth}) allows`,
      );
    }
  }
  const language = programLanguage(body.code, body.language);
  const c = body.config ?? {};
  const breakpoints: Breakpoint[] = (c.breakpoints ?? []).map((b) =>
    typeof b === "string" ? { node: b, when: "before" } : { node: b.node, when: b.when ?? "before" },
  );
  return {
    code: body.code,
    files: programFiles(body.files, language, config),
    graph: c.graph ?? null,
    language,
    languageDetected: body.language === undefined,
    inputs: body.inputs ?? null,
    resume: body.resume ?? null,
    threadId: c.thread_id ?? randomUUID(),
    debug: c.debug ?? false,
    breakpoints,
    timeoutMs: Math.min(c.timeout_ms ?? config.defaultTimeoutMs, config.maxTimeoutMs),
    recursionLimit: c.recursion_limit ?? config.recursionLimit,
    checkpointId: c.checkpoint_id ?? null,
    maxTokens: Math.min(c.max_tokens ?? config.maxTokensPerExecution, config.maxTokensPerExecution),
    configurable: c.configurable ?? {},
    context: c.context ?? null,
    stream,
    ...(c.egress ? { egress: checkedEgress(c.egress) } : {}),
  };
}

/** config.egress, each pattern read as the engine will read it; a bad one is the request's error. */
function checkedEgress(patterns: readonly string[]): string[] {
  try {
    parseEgressList(patterns);
  } catch (err: unknown) {
    throw new GraphboxError(
      "GBX_ERR_INVALID_REQUEST",
      `\`config.egress\`: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  return [...patterns];
}
