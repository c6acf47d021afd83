/** Adds up LLM usage per model. */
import type { TokenUsage } from "../engine/types.ts";

export interface UsageRecord {
  model: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

export class UsageTotals {
  private readonly usage: TokenUsage = { input_tokens: 0, output_tokens: 0, total_tokens: 0, by_model: {} };

  add(record: UsageRecord): void {
    const total = record.total_tokens || record.input_tokens + record.output_tokens;
    this.usage.input_tokens += record.input_tokens;
    this.usage.output_tokens += record.output_tokens;
    this.usage.total_tokens += total;
    const model = (this.usage.by_model[record.model] ??= { input_tokens: 0, output_tokens: 0, total_tokens: 0, calls: 0 });
    model.input_tokens += record.input_tokens;
    model.output_tokens += record.output_tokens;
    model.total_tokens += total;
    model.calls += 1;
  }

  snapshot(): TokenUsage {
    return structuredClone(this.usage);
  }
}
