/** The providers the gateway speaks for: where their calls go, how keys travel, how errors look, what may be called. */
import type { Config } from "../config/index.ts";

export type ProviderName = "openai" | "anthropic";

/**
 * What a call does, which decides how much of the token budget it reserves: `generate` reserves
 * its input and its output cap, `embed` its input, `count` and `list` nothing.
 */
export type OperationKind = "generate" | "embed" | "count" | "list";

export interface Operation {
  method: "GET" | "POST";
  /** The path after the provider's prefix; `{id}` stands for one model id segment. */
  path: string;
  kind: OperationKind;
}

export interface Provider {
  name: ProviderName;
  /** Upstream base URL; the program's path after the provider prefix is appended. */
  baseUrl: string;
  key: string | null;
  /** The variable an operator sets to give the key. */
  keyVariable: string;
  /** The only calls the gateway forwards; every other method or path is refused by the gateway itself. */
  operations: readonly Operation[];
  /** Headers that carry the real key on the way out. */
  authHeaders(key: string): Record<string, string>;
  /** The provider's own error body, so the program's client reacts as it would upstream. */
  errorBody(status: number, message: string): unknown;
}

const OPENAI_ERROR_TYPES = new Map([
  [400, "invalid_request_error"],
  [401, "invalid_request_error"],
  [403, "permission_denied"],
  [404, "not_found"],
  [405, "invalid_request_error"],
  [408, "timeout"],
  [413, "invalid_request_error"],
  [415, "invalid_request_error"],
  [429, "rate_limit_exceeded"],
  [502, "server_error"],
  [503, "server_error"],
  [504, "server_error"],
]);
const ANTHROPIC_ERROR_TYPES = new Map([
  [400, "invalid_request_error"],
  [401, "authentication_error"],
  [403, "permission_error"],
  [404, "not_found_error"],
  [405, "invalid_request_error"],
  [408, "timeout_error"],
  [413, "request_too_large"],
  [415, "invalid_request_error"],
  [429, "rate_limit_error"],
  [502, "api_error"],
  [503, "overloaded_error"],
  [504, "api_error"],
]);

/**
 * The paths the OpenAI SDKs (Python `openai`, JS `openai`) and LangChain's ChatOpenAI /
 * OpenAIEmbeddings call for inference. Stored completions (`GET /chat/completions`,
 * `/chat/completions/{id}`), stored responses (`GET`/`DELETE /responses/{id}`), files, uploads,
 * batches, fine-tuning, assistants, vector stores and admin APIs are deliberately absent.
 */
const OPENAI_OPERATIONS: readonly Operation[] = [
  { method: "POST", path: "/chat/completions", kind: "generate" },
  { method: "POST", path: "/completions", kind: "generate" },
  { method: "POST", path: "/responses", kind: "generate" },
  { method: "POST", path: "/embeddings", kind: "embed" },
  { method: "GET", path: "/models", kind: "list" },
  { method: "GET", path: "/models/{id}", kind: "list" },
];

/** The Anthropic SDKs and ChatAnthropic: messages (beta calls add `?beta=true`), token counting, models. No batches, no files. */
const ANTHROPIC_OPERATIONS: readonly Operation[] = [
  { method: "POST", path: "/v1/messages", kind: "generate" },
  { method: "POST", path: "/v1/messages/count_tokens", kind: "count" },
  { method: "GET", path: "/v1/models", kind: "list" },
  { method: "GET", path: "/v1/models/{id}", kind: "list" },
];

export function providers(config: Readonly<Config>): Record<ProviderName, Provider> {
  return {
    openai: {
      name: "openai",
      baseUrl: config.openai.baseUrl,
      key: config.openai.apiKey,
      keyVariable: "OPENAI_API_KEY",
      // The base URL already ends in /v1 (OpenAI-compatible servers such as Ollama and vLLM follow that).
      operations: OPENAI_OPERATIONS,
      authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
      errorBody: (status, message) => ({
        error: {
          message,
          type: OPENAI_ERROR_TYPES.get(status) ?? "invalid_request_error",
          param: null,
          code: "graphbox_gateway",
        },
      }),
    },
    anthropic: {
      name: "anthropic",
      baseUrl: config.anthropic.baseUrl,
      key: config.anthropic.apiKey,
      keyVariable: "ANTHROPIC_API_KEY",
      operations: ANTHROPIC_OPERATIONS,
      authHeaders: (key) => ({ "x-api-key": key }),
      errorBody: (status, message) => ({
        type: "error",
        error: { type: ANTHROPIC_ERROR_TYPES.get(status) ?? "invalid_request_error", message },
      }),
    },
  };
}
