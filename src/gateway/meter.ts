/**
 * Adds up LLM usage per model. Model names are data chosen by the program (in its request, in
 * the harness's `usage` message) or echoed by the provider: they live in a Map, never as keys of
 * a plain object, so a model named `__proto__` or `constructor` is one more model.
 */
import type { ModelUsage, TokenUsage } from "../contract/types.ts";

export interface UsageRecord {
  model: string;
  input_tokens: number;
  output_tokens: number;
  total_tokens: number;
}

/** Distinct models one execution's totals keep apart; later ones share OTHER_MODEL (as the metrics do). */
export const MAX_MODELS = 64;
export const OTHER_MODEL = "other";
/** Longer names are cut: a model name is an identifier, not a place to store megabytes. */
export const MAX_MODEL_NAME_LENGTH = 200;

const count = (x: number): number => (Number.isFinite(x) && x > 0 ? x : 0);

export class UsageTotals {
  private input = 0;
  private output = 0;
  private total = 0;
  private readonly byModel = new Map<string, ModelUsage>();

  add(record: UsageRecord): void {
    const input = count(record.input_tokens);
    const output = count(record.output_tokens);
    const total = count(record.total_tokens) || input + output;
    this.input += input;
    this.output += output;
    this.total += total;
    const name = this.modelKey(record.model);
    let model = this.byModel.get(name);
    if (!model) this.byModel.set(name, (model = { input_tokens: 0, output_tokens: 0, total_tokens: 0, calls: 0 }));
    model.input_tokens += input;
    model.output_tokens += output;
    model.total_tokens += total;
    model.calls += 1;
  }

  get totalTokens(): number {
    return this.total;
  }

  /**
   * A copy for the answer. `by_model` has no prototype and its fields are defined, not assigned,
   * so `__proto__` is an ordinary own field that JSON.stringify writes like any other.
   */
  snapshot(): TokenUsage {
    const byModel: Record<string, ModelUsage> = Object.create(null) as Record<string, ModelUsage>;
    for (const [name, used] of this.byModel) {
      Object.defineProperty(byModel, name, {
        value: { ...used },
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return { input_tokens: this.input, output_tokens: this.output, total_tokens: this.total, by_model: byModel };
  }

  private modelKey(model: unknown): string {
    const name = (typeof model === "string" ? model : String(model)).slice(0, MAX_MODEL_NAME_LENGTH);
    if (this.byModel.has(name) || this.byModel.size < MAX_MODELS - 1) return name;
    return OTHER_MODEL;
  }
}
