/**
 * Reads token usage from what a provider returned: a JSON body, or an SSE stream tapped as it
 * passes through (OpenAI's final chunk with `usage`; Anthropic's `message_start` and
 * `message_delta`). The program never gets a say in these numbers.
 */

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

const num = (x: unknown): number => (typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : 0);
const obj = (x: unknown): Record<string, unknown> | null =>
  typeof x === "object" && x !== null ? (x as Record<string, unknown>) : null;

/** Usage of a non-streamed answer of either provider (chat, responses, embeddings, messages). */
export function usageOfBody(body: unknown): Usage | null {
  const usage = obj(obj(body)?.["usage"]);
  if (!usage) return null;
  // OpenAI chat/embeddings: prompt_tokens/completion_tokens; Responses API and Anthropic: input_tokens/output_tokens.
  const input = num(usage["prompt_tokens"] ?? usage["input_tokens"]);
  const output = num(usage["completion_tokens"] ?? usage["output_tokens"]);
  // Anthropic reports cache reads/writes apart from input_tokens; they are input all the same.
  const cached = num(usage["cache_creation_input_tokens"]) + num(usage["cache_read_input_tokens"]);
  return { input_tokens: input + cached, output_tokens: output };
}

/**
 * Follows an SSE stream's `data:` lines and keeps the usage they report. Anthropic sends
 * input tokens in `message_start` and cumulative output tokens in `message_delta`; OpenAI sends
 * one final chunk with `usage` (when asked with stream_options.include_usage).
 */
export class StreamUsageTap {
  private pending = "";
  private input = 0;
  private output = 0;
  private seen = false;

  push(chunk: Buffer): void {
    this.pending += chunk.toString("utf8");
    let newline: number;
    while ((newline = this.pending.indexOf("\n")) >= 0) {
      const line = this.pending.slice(0, newline).trimEnd();
      this.pending = this.pending.slice(newline + 1);
      if (line.startsWith("data:")) this.onData(line.slice(5).trim());
    }
    // A line longer than any usage event is content; keep memory bounded.
    if (this.pending.length > 1_000_000) this.pending = "";
  }

  private onData(text: string): void {
    if (text === "" || text === "[DONE]") return;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    const e = obj(event);
    if (!e) return;
    const type = e["type"];
    if (type === "message_start") {
      const usage = obj(obj(e["message"])?.["usage"]);
      if (usage) this.record(usageOfBody({ usage }), "anthropic-start");
    } else if (type === "message_delta") {
      const usage = obj(e["usage"]);
      if (usage) this.record(usageOfBody({ usage }), "anthropic-delta");
    } else if (type === "response.completed") {
      this.record(usageOfBody(obj(e["response"])), "final");
    } else if (obj(e["usage"])) {
      this.record(usageOfBody(e), "final");
    }
  }

  private record(usage: Usage | null, kind: "anthropic-start" | "anthropic-delta" | "final"): void {
    if (!usage) return;
    this.seen = true;
    if (kind === "anthropic-start") {
      this.input = usage.input_tokens;
      this.output = usage.output_tokens;
    } else if (kind === "anthropic-delta") {
      // message_delta's counts are cumulative; input appears there only on newer API versions.
      if (usage.input_tokens > 0) this.input = usage.input_tokens;
      this.output = usage.output_tokens;
    } else {
      this.input = usage.input_tokens;
      this.output = usage.output_tokens;
    }
  }

  result(): Usage | null {
    return this.seen ? { input_tokens: this.input, output_tokens: this.output } : null;
  }
}
