/**
 * Which calls pass the gateway: a request target is checked before anything else is read, and
 * only a (method, path) pair on its provider's allowlist is forwarded. The path is never
 * "normalised" into something else: a target the upstream's URL parser could read differently
 * from ours (dot segments, empty segments, percent-encoding, backslashes) is refused outright,
 * so `/openai/v1/models/..` can never become `/v1/`.
 */
import type { Operation, Provider, ProviderName } from "./providers.ts";

export type Admission =
  | { ok: true; provider: ProviderName; operation: Operation; path: string; query: string }
  | { ok: false; provider: ProviderName | null; status: 400 | 404 | 405; message: string; allow?: string };

/** Route prefixes as the program sees them: OPENAI_BASE_URL=<gateway>/openai/v1, ANTHROPIC_BASE_URL=<gateway>/anthropic. */
const PREFIXES: readonly [string, ProviderName][] = [
  ["/openai/v1/", "openai"],
  ["/anthropic/", "anthropic"],
];
/** A path segment: a word or a model id (`gpt-4o-mini`, `ft:gpt-4o-mini:org::abc`, `claude-3.5-sonnet`), never `.` or `..`. */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/;
/** Query strings the SDKs send (`?beta=true`, `?limit=20&after_id=...`); they never reach the upstream's path. */
const QUERY = /^[A-Za-z0-9_.~:,+%=&-]*$/;
const MAX_TARGET_LENGTH = 2048;

/** Why a path segment is refused, or null when it is an ordinary one. */
function segmentProblem(segment: string): string | null {
  if (segment === "") return "an empty path segment (`//` or a trailing `/`)";
  if (segment === "." || segment === "..") return `a \`${segment}\` path segment`;
  if (segment.includes("%")) return "a percent-encoded path segment";
  if (segment.includes("\\")) return "a backslash in the path";
  if (!SEGMENT.test(segment)) return "a character the gateway does not forward in a path";
  return null;
}

export function admit(method: string, target: string, providers: Record<ProviderName, Provider>): Admission {
  if (target.length > MAX_TARGET_LENGTH)
    return {
      ok: false,
      provider: null,
      status: 400,
      message: `graphbox gateway: request target longer than ${MAX_TARGET_LENGTH} characters`,
    };
  const queryAt = target.indexOf("?");
  const rawPath = queryAt >= 0 ? target.slice(0, queryAt) : target;
  const query = queryAt >= 0 ? target.slice(queryAt + 1) : "";
  const prefix = PREFIXES.find(([p]) => rawPath.startsWith(p));
  if (!prefix)
    return {
      ok: false,
      provider: null,
      status: 404,
      message: "graphbox gateway: no provider at this path; use /openai/v1/... or /anthropic/v1/...",
    };
  const [prefixPath, name] = prefix;
  const provider = providers[name];
  const segments = rawPath.slice(prefixPath.length).split("/");
  for (const segment of segments) {
    const problem = segmentProblem(segment);
    if (problem)
      return {
        ok: false,
        provider: name,
        status: 400,
        message: `graphbox gateway: refused ${problem}; paths are matched as sent, never normalised`,
      };
  }
  if (!QUERY.test(query))
    return {
      ok: false,
      provider: name,
      status: 400,
      message: "graphbox gateway: the query string has a character the gateway does not forward",
    };
  // Relative to what the provider's base URL already holds (OpenAI's ends in /v1).
  const path = `/${segments.join("/")}`;
  const candidates = provider.operations.filter((op) => matches(op.path, path));
  if (candidates.length === 0) {
    return {
      ok: false,
      provider: name,
      status: 404,
      message: `graphbox gateway: ${name} ${path} is not forwarded; the gateway forwards ${describe(provider.operations)}`,
    };
  }
  const operation = candidates.find((op) => op.method === method);
  if (!operation) {
    const allow = [...new Set(candidates.map((op) => op.method))].join(", ");
    return {
      ok: false,
      provider: name,
      status: 405,
      allow,
      message: `graphbox gateway: ${method} ${path} is not forwarded (only ${allow})`,
    };
  }
  return { ok: true, provider: name, operation, path, query };
}

function matches(pattern: string, path: string): boolean {
  const want = pattern.split("/");
  const got = path.split("/");
  return want.length === got.length && want.every((part, i) => part === "{id}" || part === got[i]);
}

function describe(operations: readonly Operation[]): string {
  return operations.map((op) => `${op.method} ${op.path}`).join(", ");
}
