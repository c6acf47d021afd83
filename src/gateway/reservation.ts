/**
 * How much of an execution's token budget a call reserves while it is in flight, so parallel
 * calls cannot together spend more than the budget (each used to be checked only when it
 * started, against what the calls already finished had used).
 *
 * The rule, from the request body the gateway parsed:
 * - input: one token per 4 bytes of the JSON body (`generate` and `embed` calls). JSON's keys,
 *   quotes and roles make this an overestimate for ordinary text;
 * - output (`generate` only): the largest of `max_tokens`, `max_completion_tokens` and
 *   `max_output_tokens` the request declares, times its `n` (or `best_of`) choices; when it
 *   declares none, GRAPHBOX_GATEWAY_OUTPUT_RESERVE_TOKENS;
 * - `count` (Anthropic count_tokens) and `list` (models) reserve nothing.
 */
import type { OperationKind } from "./providers.ts";

export interface Estimate {
  input: number;
  output: number;
}

const BYTES_PER_TOKEN = 4;
const MAX_CHOICES = 128;

const positiveInteger = (x: unknown): number | null =>
  typeof x === "number" && Number.isSafeInteger(x) && x > 0 ? x : null;

export function estimateOf(
  kind: OperationKind,
  body: Readonly<Record<string, unknown>> | null,
  bodyBytes: number,
  outputReserveTokens: number,
): Estimate {
  if (kind === "count" || kind === "list") return { input: 0, output: 0 };
  const input = Math.ceil(bodyBytes / BYTES_PER_TOKEN);
  if (kind === "embed" || !body) return { input, output: 0 };
  const caps = [body["max_tokens"], body["max_completion_tokens"], body["max_output_tokens"]]
    .map(positiveInteger)
    .filter((x): x is number => x !== null);
  const perChoice = caps.length > 0 ? Math.max(...caps) : outputReserveTokens;
  const choices = Math.min(
    MAX_CHOICES,
    Math.max(1, positiveInteger(body["n"]) ?? 1, positiveInteger(body["best_of"]) ?? 1),
  );
  return { input, output: perChoice * choices };
}
