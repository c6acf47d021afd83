/** The engine: runs executions and knows which are in flight. */
import type { Config } from "../config/index.ts";
import { GraphboxError } from "../errors.ts";
import { Gateway } from "../gateway/gateway.ts";
import { runtimeFor } from "../runtimes/index.ts";
import { Execution, type ExecutionHooks } from "./execution.ts";
import type { ExecutionOutcome, ExecutionRequest } from "./types.ts";

export class Engine {
  private readonly running = new Set<Promise<ExecutionOutcome>>();
  private readonly cancelAll = new AbortController();

  readonly gateway: Gateway;
  private started: Promise<void> | null = null;

  constructor(readonly config: Readonly<Config>) {
    this.gateway = new Gateway(config, { modelAllowlist: config.modelAllowlist, upstreamTimeoutMs: config.upstreamTimeoutMs });
  }

  /** Starts what executions need (the LLM gateway). Idempotent. */
  start(): Promise<void> {
    this.started ??= this.gateway.listen();
    return this.started;
  }

  /**
   * Runs one execution to its outcome. Never throws for anything the program does; throws a
   * GraphboxError when the request cannot run at all (no runtime for its language).
   */
  async execute(request: ExecutionRequest, hooks: ExecutionHooks = {}): Promise<ExecutionOutcome> {
    const runtime = runtimeFor(request.language);
    if (!runtime) {
      throw new GraphboxError("GBX_ERR_RUNTIME_UNAVAILABLE", `the ${request.language} runtime is not available yet in this engine; only python programs run for now`);
    }
    const signal = hooks.signal ? AbortSignal.any([hooks.signal, this.cancelAll.signal]) : this.cancelAll.signal;
    await this.start();
    const run = new Execution(this.config, request, runtime, this.gateway, { ...hooks, signal }).run();
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
    if (this.started) await this.gateway.close();
  }
}
