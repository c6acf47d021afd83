/**
 * What `graphbox run` prints for people: the node timeline (live with --stream, from the answer's
 * node timings without), streamed LLM text, and the outcome. Progress goes to stderr, the result to
 * stdout, so `graphbox run x.py > result.json` keeps only the result.
 */
import type { StreamEvent } from "../events.ts";
import type { ExecuteResponse, ExecutionMetadata } from "../types.ts";

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** A printable rendering of something a program chose (a node name, a value): one line, bounded. */
const shown = (value: unknown, max = 200): string => {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const line = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, " ");
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};
/** Milliseconds for people: 6.6 ms, 812 ms. */
const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`;
/** Streamed text keeps its line breaks, but no other control character (no terminal escapes). */
const text = (value: string): string => value.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, "");

/** Prints each event as it arrives. */
export class LiveTimeline {
  private readonly started = Date.now();
  private tokensOf: string | null | undefined = undefined;

  constructor(private readonly output: Output) {}

  private line(mark: string, message: string): void {
    this.endTokens();
    const seconds = ((Date.now() - this.started) / 1000).toFixed(2).padStart(6);
    this.output.err(`[${seconds}s] ${mark} ${message}\n`);
  }

  private endTokens(): void {
    if (this.tokensOf !== undefined) this.output.err("\n");
    this.tokensOf = undefined;
  }

  event(event: StreamEvent): void {
    switch (event.event) {
      case "metadata":
        this.line(
          "•",
          `execution ${event.data.execution_id} · thread ${shown(event.data.thread_id)} · ${event.data.runtime}`,
        );
        break;
      case "node_start":
        this.line("▶", `${shown(event.data.node, 80)} (step ${event.data.step})`);
        break;
      case "node_end":
        this.line("✓", `${shown(event.data.node, 80)} ${ms(event.data.duration_ms)}`);
        break;
      case "token":
        if (this.tokensOf !== event.data.node) {
          this.endTokens();
          this.output.err(`          ${shown(event.data.node ?? "llm", 80)} › `);
          this.tokensOf = event.data.node;
        }
        this.output.err(text(event.data.content));
        break;
      case "custom":
        this.line("•", `custom ${shown(event.data.data)}`);
        break;
      case "interrupt":
        this.line("⏸", `paused before ${event.data.next.map((n) => shown(n, 80)).join(", ") || "(nothing)"}`);
        break;
      case "complete":
      case "error":
        this.endTokens();
        break;
      default:
        break;
    }
  }
}

/** The node timeline of a finished run, from its metadata (without --stream). */
export function printTimings(metadata: ExecutionMetadata, output: Output): void {
  for (const t of metadata.node_timings) {
    const mark = t.status === "ok" ? "✓" : t.status === "interrupted" ? "⏸" : "✗";
    const tokens = t.tokens > 0 ? ` · ${t.tokens} tokens` : "";
    output.err(`${mark} ${shown(t.node, 80)} (step ${t.step}) ${ms(t.duration_ms)}${tokens}\n`);
  }
}

/** The outcome, for people. */
export function printOutcome(response: ExecuteResponse, output: Output): void {
  const metadata = response.status === "error" ? response.metadata : response.result.metadata;
  const summary = metadata
    ? ` in ${ms(metadata.duration_ms)} · ${metadata.nodes_executed.length} nodes · ${metadata.tokens_used} tokens · thread ${shown(metadata.thread_id)}`
    : "";
  if (response.status === "error") {
    output.err(`✗ ${response.error_type}${response.node ? ` in node ${shown(response.node, 80)}` : ""}${summary}\n`);
    output.err(`${text(response.error)}\n`);
    if (response.traceback) output.err(`${text(response.traceback)}\n`);
    return;
  }
  output.err(`${response.status === "success" ? "✓ success" : "⏸ interrupted"}${summary}\n`);
  if (response.status === "interrupted") {
    output.err(`  next: ${response.result.metadata.next.map((n) => shown(n, 80)).join(", ")}\n`);
    for (const i of response.result.metadata.interrupts) output.err(`  interrupt: ${shown(i.value)}\n`);
    const thread = JSON.stringify(response.result.metadata.thread_id);
    output.err(
      `  go on with: graphbox resume ${thread}${response.result.metadata.interrupts.length > 0 ? " --resume JSON" : ""}\n`,
    );
  }
  output.out(`${JSON.stringify(response.result.state, null, 2)}\n`);
}
