/** Prices of the models, for metadata.cost. */
import { kind } from "./kinds.ts";

export type Prices = Record<string, { input: number; output: number }>;

/** `{"gpt-4o-mini": {"input": 0.15, "output": 0.6}}`: USD per million tokens. */
export const prices = kind<Prices>({
  accepts: "JSON",
  parse(raw) {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error('expected JSON such as {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}');
    }
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new Error("expected a JSON object keyed by model");
    for (const [model, price] of Object.entries(value as Record<string, unknown>)) {
      const p = price as Record<string, unknown> | null;
      if (typeof p?.["input"] !== "number" || typeof p["output"] !== "number")
        throw new Error(`price of ${model} needs numeric "input" and "output"`);
    }
    return value as Prices;
  },
  format: (value) => (Object.keys(value).length === 0 ? null : JSON.stringify(value)),
});
