/** Prices token usage with the operator's price table (USD per million tokens). */
import type { Cost, TokenUsage } from "../contract/types.ts";

export function costOf(usage: TokenUsage, prices: Record<string, { input: number; output: number }>): Cost {
  // Model names are the program's: looked up as own fields only, written to an object with no prototype.
  const byModel = Object.create(null) as Record<string, number>;
  let total = 0;
  for (const [model, used] of Object.entries(usage.by_model)) {
    const price = Object.hasOwn(prices, model) ? prices[model] : undefined;
    if (!price) continue;
    const cost = (used.input_tokens * price.input + used.output_tokens * price.output) / 1_000_000;
    Object.defineProperty(byModel, model, { value: cost, enumerable: true, writable: true, configurable: true });
    total += cost;
  }
  return { currency: "USD", total, by_model: byModel };
}
