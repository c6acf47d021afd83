/** The providers the gateway speaks for: where their calls go, how keys travel, how errors look. */
import type { Config } from "../config/index.ts";

export type ProviderName = "openai" | "anthropic";

export interface Provider {
  name: ProviderName;
  /** Upstream base URL; the program's path after the provider prefix is appended. */
  baseUrl: string;
  key: string | null;
  /** The variable an operator sets to give the key. */
  keyVariable: string;
  /** Paths (after the prefix) the gateway forwards; everything else is refused. */
  paths: RegExp;
  /** Headers that carry the real key on the way out. */
  authHeaders(key: string): Record<string, string>;
  /** The provider's own error body, so the program's client reacts as it would upstream. */
  errorBody(status: number, message: string): unknown;
}

const OPENAI_ERROR_TYPES: Record<number, string> = { 401: "invalid_request_error", 403: "permission_denied", 404: "not_found", 429: "insufficient_quota", 502: "server_error", 504: "server_error" };
const ANTHROPIC_ERROR_TYPES: Record<number, string> = { 401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error", 502: "api_error", 504: "api_error" };

export function providers(config: Readonly<Config>): Record<ProviderName, Provider> {
  return {
    openai: {
      name: "openai",
      baseUrl: config.openai.baseUrl,
      key: config.openai.apiKey,
      keyVariable: "OPENAI_API_KEY",
      // The base URL already ends in /v1 (OpenAI-compatible servers such as Ollama and vLLM follow that).
      paths: /^\/(chat\/completions|responses|embeddings|models)(\/[\w.:-]+)?$/,
      authHeaders: (key) => ({ authorization: `Bearer ${key}` }),
      errorBody: (status, message) => ({ error: { message, type: OPENAI_ERROR_TYPES[status] ?? "invalid_request_error", param: null, code: "graphbox_gateway" } }),
    },
    anthropic: {
      name: "anthropic",
      baseUrl: config.anthropic.baseUrl,
      key: config.anthropic.apiKey,
      keyVariable: "ANTHROPIC_API_KEY",
      paths: /^\/v1\/(messages|messages\/count_tokens|models)$/,
      authHeaders: (key) => ({ "x-api-key": key }),
      errorBody: (status, message) => ({ type: "error", error: { type: ANTHROPIC_ERROR_TYPES[status] ?? "invalid_request_error", message } }),
    },
  };
}

/** Route prefixes as the program sees them: OPENAI_BASE_URL=<gateway>/openai/v1, ANTHROPIC_BASE_URL=<gateway>/anthropic. */
export function routeOf(path: string): { provider: ProviderName; rest: string } | null {
  const match = /^\/(openai\/v1|anthropic)(\/[^?]*)(\?.*)?$/.exec(path);
  if (!match) return null;
  return { provider: match[1] === "anthropic" ? "anthropic" : "openai", rest: match[2]! + (match[3] ?? "") };
}
