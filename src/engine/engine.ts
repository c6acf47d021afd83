/** The engine: runs executions and knows which are in flight. */
import type { Config } from "../config/index.ts";
import { Execution, type ExecutionHooks } from "./execution.ts";
import type { ExecutionOutcome, ExecutionRequest } from "./types.ts";

export class Engine {
  private readonly running = new Set<Promise<ExecutionOutcome>>();
  private readonly cancelAll = new AbortController();

  constructor(readonly config: Readonly<Config>) {}

  /** Runs one execution to its outcome. Never throws for anything the program does. */
  async execute(request: ExecutionRequest, hooks: ExecutionHooks = {}): Promise<ExecutionOutcome> {
    const signal = hooks.signal ? AbortSignal.any([hooks.signal, this.cancelAll.signal]) : this.cancelAll.signal;
    const run = new Execution(this.config, request, { ...hooks, signal }).run();
    this.running.add(run);
    try {
      return await run;
    } finally {
      this.running.delete(run);
    }
  }

  get inFlight(): number {
    return this.running.size;
  }

  /** Lets running executions finish. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }

  /** Cancels every running execution and waits until their processes are gone. */
  async destroy(): Promise<void> {
    this.cancelAll.abort();
    await this.close();
  }
}
