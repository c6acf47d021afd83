// @ts-check
// Turns LangGraph's `tasks` stream into node_start / node_end events with steps and timings, and
// with config.debug its `checkpoints` stream into one `debug` message per step. The same rules as
// the Python harness's NodeTracker: a super-step's tasks all start before any of them finishes,
// so a task that starts while none is running opens a new step.
import { describe } from "./errors.mjs";
import { toJson } from "./serialize.mjs";

/** @type {(value: any) => boolean} */
const isErrorLike = (value) => typeof value === "object" && value !== null && typeof value.message === "string";

/**
 * One chunk of LangGraph's `tasks` stream: a task starting (with `input`) or ending (with `result`, `error`, `interrupts`).
 * @typedef {{ id: string, name?: unknown, input?: unknown, result?: unknown, error?: unknown, interrupts?: unknown[] }} TaskChunk
 */

export class NodeTracker {
  /**
   * @param {import("./channel.mjs").Channel} channel
   * @param {boolean} debug
   */
  constructor(channel, debug) {
    this.channel = channel;
    /** @type {Map<string, { name: string, startedAt: number, step: number, input: unknown }>} */
    this.running = new Map();
    this.step = 0;
    /** @type {string | null} */
    this.failedNode = null;
    // With config.debug: the tasks of the current step, sent with the checkpoint that ends it.
    this.debug = debug;
    /** @type {Record<string, unknown>[]} */
    this.debugTasks = [];
  }

  /** @param {TaskChunk} chunk */
  observe(chunk) {
    const name = typeof chunk?.name === "string" ? chunk.name : "";
    if (name.startsWith("__")) return;
    if ("input" in chunk) {
      if (this.running.size === 0) this.step += 1;
      this.running.set(chunk.id, { name, startedAt: performance.now(), step: this.step, input: chunk.input });
      this.channel.send("node_start", { node: name, step: this.step });
      return;
    }
    const started = this.running.get(chunk.id);
    if (!started) return;
    this.running.delete(chunk.id);
    const status = chunk.error ? "error" : chunk.interrupts?.length ? "interrupted" : "ok";
    if (status === "error") this.failedNode = name;
    const durationMs = Math.round((performance.now() - started.startedAt) * 1000) / 1000;
    this.channel.send("node_end", { node: name, step: started.step, duration_ms: durationMs, status });
    if (this.debug) {
      this.debugTasks.push({
        id: chunk.id,
        node: name,
        status,
        duration_ms: durationMs,
        input: toJson(started.input),
        writes: toJson(chunk.result),
        error: isErrorLike(chunk.error) ? describe(chunk.error) : toJson(chunk.error),
        interrupts: toJson(chunk.interrupts ?? []),
      });
    }
  }

  /**
   * A step ended (or the run began): with config.debug, report the step and the state after it.
   * @param {any} chunk One chunk of LangGraph's `checkpoints` stream, read defensively.
   */
  checkpoint(chunk) {
    if (!this.debug) return;
    const metadata = chunk?.metadata ?? {};
    this.channel.send("debug", {
      data: {
        step: metadata.step ?? null,
        source: metadata.source ?? null,
        checkpoint_id: chunk?.config?.configurable?.checkpoint_id ?? null,
        tasks: this.debugTasks,
        state: toJson(chunk?.values),
        next: [...(chunk?.next ?? [])],
      },
    });
    this.debugTasks = [];
  }

  /** The node that failed: the one whose task reported the error, or else the only one still running. */
  blame() {
    if (this.failedNode) return this.failedNode;
    const running = [...this.running.values()];
    return running.length === 1 ? (running[0]?.name ?? null) : null;
  }
}
