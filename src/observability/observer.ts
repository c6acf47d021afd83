/**
 * What the engine tells observers (logs, metrics, traces) about executions. Observers must be
 * cheap and must not throw: the engine calls them inline and ignores their failures.
 */
import type { ExecutionEvent, ExecutionOutcome, Language, RuntimeName } from "../contract/types.ts";

export interface ExecutionInfo {
  id: string;
  /** The API key's name. */
  owner: string;
  threadId: string;
  runtime: RuntimeName;
  language: Language;
  /** Time spent waiting for admission, in ms. */
  queueMs: number;
}

export interface LlmCallInfo {
  executionId: string;
  provider: "openai" | "anthropic";
  /** The API path after the provider prefix, e.g. /chat/completions. */
  operation: string;
  model: string;
  stream: boolean;
  /** The upstream's HTTP status, or 0 when it could not be reached. */
  status: number;
  inputTokens: number;
  outputTokens: number;
  /** The node running when the call was made (when exactly one was). */
  node: string | null;
  startedAt: number;
  durationMs: number;
  /** Time to the first byte of the answer. */
  firstByteMs: number | null;
}

/** One connection through the egress proxy, or one refused: told when it ends. */
export interface EgressConnectionInfo {
  executionId: string | null;
  /** The target as the program named it (canonical), or null when it could not be read. */
  host: string | null;
  port: number;
  /** `http`: a forwarded absolute-form request; `tunnel`: a CONNECT. */
  kind: "http" | "tunnel";
  /** Null when it passed; else the rule that refused it (a fixed set). */
  refusedBy: string | null;
  /** The refusal's text (what the program read in the 403's body). */
  reason: string | null;
  /** The address connected to (null: refused before one was chosen). */
  address: string | null;
  /** The proxy's or the upstream's status for a request; 200 for a tunnel that opened. */
  status: number;
  bytesIn: number;
  bytesOut: number;
  startedAt: number;
  durationMs: number;
}

export interface ExecutionObserver {
  executionStarted?(info: ExecutionInfo): void;
  /** Events as the harness reports them (node_start, node_end, update, token...). */
  executionEvent?(info: ExecutionInfo, event: ExecutionEvent): void;
  llmCall?(call: LlmCallInfo): void;
  egressConnection?(connection: EgressConnectionInfo): void;
  executionEnded?(info: ExecutionInfo, outcome: ExecutionOutcome): void;
  /** Sandbox start-up, in ms (start to `ready`). */
  sandboxStarted?(runtime: RuntimeName, ms: number): void;
  /**
   * A fault of the engine's own that one execution's data caused or met (its event could not be
   * stored, a promise rejected that nobody awaited): that execution ended, the engine carries on.
   */
  engineFault?(kind: EngineFaultKind, err: unknown): void;
  /** Flushes what is buffered (shutdown). */
  flush?(): Promise<void>;
}

/** Where an engine fault happened: a fixed set, so metric labels stay bounded. */
export type EngineFaultKind =
  "event_store" | "thread_lock" | "run_queue" | "cluster" | "unhandled_rejection" | "uncaught_exception";

/** Calls every observer, never letting one's failure reach the engine. */
export class Observers implements ExecutionObserver {
  constructor(private readonly observers: ExecutionObserver[] = []) {}

  add(observer: ExecutionObserver): void {
    this.observers.push(observer);
  }

  private each(call: (o: ExecutionObserver) => void): void {
    for (const observer of this.observers) {
      try {
        call(observer);
      } catch {
        // An observer's bug must not fail an execution.
      }
    }
  }

  executionStarted(info: ExecutionInfo): void {
    this.each((o) => o.executionStarted?.(info));
  }
  executionEvent(info: ExecutionInfo, event: ExecutionEvent): void {
    this.each((o) => o.executionEvent?.(info, event));
  }
  llmCall(call: LlmCallInfo): void {
    this.each((o) => o.llmCall?.(call));
  }
  egressConnection(connection: EgressConnectionInfo): void {
    this.each((o) => o.egressConnection?.(connection));
  }
  executionEnded(info: ExecutionInfo, outcome: ExecutionOutcome): void {
    this.each((o) => o.executionEnded?.(info, outcome));
  }
  sandboxStarted(runtime: RuntimeName, ms: number): void {
    this.each((o) => o.sandboxStarted?.(runtime, ms));
  }
  engineFault(kind: EngineFaultKind, err: unknown): void {
    this.each((o) => o.engineFault?.(kind, err));
  }
  async flush(): Promise<void> {
    await Promise.allSettled(this.observers.map((o) => o.flush?.()));
  }
}
