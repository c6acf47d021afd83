/**
 * One execution from job to outcome: start the runtime's sandbox, wait until it is ready,
 * hand it the job, follow its events, enforce the deadline, assemble the contract's answer.
 */
import type { Config } from "../config/index.ts";
import { ERRORS, type ErrorCode } from "../contract/errors.ts";
import type {
  CheckpointRequest,
  FailureMessage,
  HarnessMessage,
  JobMessage,
  JobOp,
  ResultMessage,
  StoreRequest,
} from "../contract/protocol/messages.ts";
import type { Runtime } from "../runtimes/index.ts";
import type { ChannelFault, ExitInfo, Sandbox, TrippedLimit } from "../sandbox/sandbox.ts";
import type { ExecutionAccount } from "../gateway/accounts.ts";
import type { Gateway } from "../gateway/gateway.ts";
import { UsageTotals } from "../gateway/meter.ts";
import type { EgressAccount } from "../egress/account.ts";
import type { EgressProxy } from "../egress/proxy.ts";
import { egressEnvironment, openEgress } from "./egress.ts";
import type { CheckpointStore, ItemStore, ThreadRef } from "../store/types.ts";
import type { SandboxSupply } from "../supply/index.ts";
import { answerCheckpointRequest } from "./checkpoints.ts";
import { costOf } from "./cost.ts";
import { answerStoreRequest } from "./store-requests.ts";
import type {
  ExecutionEvent,
  ExecutionMetadata,
  ExecutionOutcome,
  ExecutionRequest,
  NodeTiming,
  TokenUsage,
} from "../contract/types.ts";

/** What an execution works with besides its request. */
export interface ExecutionContext {
  /** An op other than `run` (Engine.inspect): the job asks for it and the harness's `answer` ends the execution. */
  op?: { op: Exclude<JobOp, "run">; args: Record<string, unknown> };
  id: string;
  runtime: Runtime;
  gateway: Gateway;
  /** The egress proxy, when the engine has one (GRAPHBOX_EGRESS_ALLOW); ops get none. */
  egress?: EgressProxy;
  /** Where the execution's sandbox comes from. */
  supply: SandboxSupply;
  checkpoints: CheckpointStore;
  /** The thread in the store (the owner's name and the request's thread_id). */
  thread: ThreadRef;
  /** The long-term memory store: `store` requests reach the thread owner's items only. */
  items: ItemStore;
}

export interface ExecutionHooks {
  /** Records an event; the harness's channel is not read again until the returned promise settles. */
  onEvent?: (event: ExecutionEvent) => void | Promise<void>;
  /** Aborting ends the execution with error_type `cancelled`. */
  signal?: AbortSignal;
  /** The sandbox said ready this many ms after it was started. */
  onSandboxReady?: (ms: number) => void;
}

/** How the execution ended, before it is turned into the contract's shape. */
export type Ending =
  | { kind: "result"; message: ResultMessage }
  | { kind: "answer"; data: unknown }
  | { kind: "failure"; message: FailureMessage }
  | { kind: "engine"; code: ErrorCode; error: string };

export class Execution {
  readonly id: string;
  private readonly startedAt = performance.now();
  /** What the harness's callbacks saw: a cross-check only, since the program could fake it. */
  private readonly reportedUsage = new UsageTotals();
  private account: ExecutionAccount | null = null;
  private egress: EgressAccount | null = null;
  private readonly nodeTimings: NodeTiming[] = [];
  private sandbox: Sandbox | null = null;
  private settle: ((ending: Ending) => void) | null = null;
  private teardown: Promise<void> = Promise.resolve();
  private readyWaiter: ((ready: boolean) => void) | null = null;
  private readonly debugSteps: Record<string, unknown>[] = [];
  /** What the harness has sent so far, against the execution's quotas. */
  private readonly sent = { events: 0, eventBytes: 0, debugBytes: 0 };
  /** The checkpoint request being answered (the channel is not read until it is). */
  private checkpointAnswer: Promise<void> = Promise.resolve();
  private readonly runtime: Runtime;
  private readonly gateway: Gateway;
  /** The head's ThreadState the result carried (kept with the thread, never in the contract's answer). */
  threadState: Record<string, unknown> | null = null;

  constructor(
    private readonly config: Readonly<Config>,
    private readonly request: ExecutionRequest,
    private readonly context: ExecutionContext,
    private readonly hooks: ExecutionHooks = {},
  ) {
    this.id = context.id;
    this.runtime = context.runtime;
    this.gateway = context.gateway;
  }

  async run(): Promise<ExecutionOutcome> {
    try {
      await this.emit({
        type: "metadata",
        execution_id: this.id,
        thread_id: this.request.threadId,
        runtime: this.request.language,
      });
      const ending = await this.runIn();
      return this.outcome(ending);
    } finally {
      // The sandbox's tree was killed when the execution ended and its credential dies here; the
      // kernel reaping the tree and the removal of its cgroup and files are not the caller's wait.
      if (this.account) this.gateway.release(this.account);
      if (this.egress) this.context.egress?.release(this.egress);
      this.teardown = this.tearDown();
    }
  }

  /** Runs an op's job (context.op) to its ending: no metadata event, no contract outcome. */
  async runOp(): Promise<Ending> {
    try {
      return await this.runIn();
    } finally {
      if (this.account) this.gateway.release(this.account);
      this.teardown = this.tearDown();
    }
  }

  /** Resolves once the sandbox is gone: processes reaped, cgroup and working files removed. */
  released(): Promise<void> {
    return this.teardown;
  }

  private async tearDown(): Promise<void> {
    await this.sandbox?.destroy();
  }

  /** Ends the execution with the engine's own error (a fault of the engine, not of the program); no-op once it has ended. */
  fail(code: ErrorCode, error: string): void {
    this.end({ kind: "engine", code, error });
  }

  private end(ending: Ending): void {
    const settle = this.settle;
    this.settle = null;
    settle?.(ending);
  }

  private async runIn(): Promise<Ending> {
    const ended = new Promise<Ending>((resolve) => (this.settle = resolve));
    const finish = (ending: Ending): void => this.end(ending);
    // Before the sandbox: a pre-started one replays its `ready` as soon as it is attached.
    const readyPromise = new Promise<boolean>((resolve) => (this.readyWaiter = resolve));

    const account = this.gateway.open(this.id, {
      budget: this.request.maxTokens,
      onBudgetExceeded: () =>
        finish({
          kind: "engine",
          code: "GBX_ERR_TOKEN_BUDGET",
          error: `the execution used more than its token budget of ${this.request.maxTokens} tokens`,
        }),
    });
    this.account = account;
    this.egress = openEgress({
      proxy: this.context.egress,
      executionId: this.id,
      owner: this.context.thread.owner,
      requested: this.request.egress,
      onLimit: (message) => finish({ kind: "engine", code: "GBX_ERR_EGRESS_LIMIT", error: message }),
    });
    let sandbox: Sandbox;
    const handlers = {
      onMessage: (message: HarnessMessage, bytes: number) => this.onMessage(message, bytes),
      onFault: (fault: ChannelFault) => finish(this.faultEnding(fault)),
    };
    try {
      sandbox = await this.context.supply.acquire(this.runtime.name, { handlers });
    } catch (err: unknown) {
      return {
        kind: "engine",
        code: "GBX_ERR_SANDBOX",
        error: `the sandbox could not start: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    this.sandbox = sandbox;
    sandbox.exited.then(
      (exit) => finish(this.exitEnding(exit)),
      (err: unknown) =>
        finish({
          kind: "engine",
          code: "GBX_ERR_SANDBOX",
          error: `the sandbox failed: ${err instanceof Error ? err.message : String(err)}`,
        }),
    );

    const onAbort = (): void => {
      const reason: unknown = this.hooks.signal?.reason;
      finish({
        kind: "engine",
        code: "GBX_ERR_CANCELLED",
        error: `the execution was cancelled: ${typeof reason === "string" ? reason : "cancelled"}`,
      });
    };
    this.hooks.signal?.addEventListener("abort", onAbort, { once: true });
    // A cancel that came while the sandbox was being acquired fired no listener yet.
    if (this.hooks.signal?.aborted) onAbort();
    const timers: NodeJS.Timeout[] = [];
    try {
      const startup = setTimeout(
        () =>
          finish({
            kind: "engine",
            code: "GBX_ERR_SANDBOX",
            error: `the runtime did not start within ${this.config.startupTimeoutMs} ms`,
          }),
        this.config.startupTimeoutMs,
      );
      timers.push(startup);
      const ready = await Promise.race([readyPromise, ended.then(() => false)]);
      clearTimeout(startup);
      if (ready) {
        // The deadline counts from the hand-over: start-up is the engine's cost, not the program's.
        timers.push(
          setTimeout(
            () =>
              finish({
                kind: "engine",
                code: "GBX_ERR_TIMEOUT",
                error: `the execution exceeded its timeout of ${this.request.timeoutMs} ms`,
              }),
            this.request.timeoutMs,
          ),
        );
        try {
          sandbox.send(this.job());
        } catch (err: unknown) {
          // The request's own values could not be encoded (the HTTP layer bounds their depth; this is the last line).
          finish({
            kind: "engine",
            code: "GBX_ERR_INVALID_REQUEST",
            error: `the request could not be handed to the program: ${err instanceof Error ? err.message : String(err)}`,
          });
        }
      }
      const ending = await ended;
      // A failure may have a sandbox limit behind it: a fork refused at the process limit, a
      // channel garbled by a fork bomb's children.
      const limit =
        ending.kind === "failure" || (ending.kind === "engine" && ending.code === "GBX_ERR_SANDBOX")
          ? await sandbox.trippedLimit()
          : null;
      // Whatever the program left running (threads, children) dies with the tree now.
      sandbox.kill();
      // The program's last prints may still be unread: they reach the engine apart from its result.
      await sandbox.outputRead();
      return limit ? limitEnding(limit) : ending;
    } finally {
      for (const timer of timers) clearTimeout(timer);
      this.hooks.signal?.removeEventListener("abort", onAbort);
    }
  }

  private job(): JobMessage {
    const r = this.request;
    const op = this.context.op;
    return {
      v: 1,
      type: "job",
      ...(op ? { op: op.op, args: op.args } : {}),
      ...(r.run ? { stream_modes: r.run.streamModes, subgraphs: r.run.subgraphs, command: r.run.command } : {}),
      execution_id: this.id,
      thread_id: r.threadId,
      language: r.language,
      code: r.code,
      files: r.files,
      inputs: r.inputs,
      resume: r.resume,
      stream: r.stream,
      debug: r.debug,
      env: {
        ...(this.account
          ? { OPENAI_API_KEY: this.account.credential, ANTHROPIC_API_KEY: this.account.credential }
          : {}),
        ...(this.egress && this.context.egress
          ? egressEnvironment(this.context.egress.proxyUrl(this.egress, this.gateway.url), this.gateway.url)
          : {}),
      },
      config: {
        recursion_limit: r.recursionLimit,
        configurable: r.configurable,
        context: r.context,
        interrupt_before: r.breakpoints.filter((b) => b.when === "before").map((b) => b.node),
        interrupt_after: r.breakpoints.filter((b) => b.when === "after").map((b) => b.node),
        checkpoint_id: r.checkpointId,
        graph: r.graph,
        ...(r.run ? { metadata: r.run.metadata } : {}),
      },
    };
  }

  /**
   * One message from the harness, already checked against the protocol's schema. Everything in it
   * was written by the program: names stay data, and every byte counts against a quota. A returned
   * promise holds the channel until the engine has dealt with the message.
   */
  private onMessage(message: HarnessMessage, bytes: number): void | Promise<void> {
    if (this.settle === null && message.type !== "ready") return;
    switch (message.type) {
      case "ready":
        this.hooks.onSandboxReady?.(performance.now() - this.startedAt);
        this.readyWaiter?.(true);
        this.readyWaiter = null;
        return;
      case "node_start":
        if (!this.countEvent(bytes)) return;
        this.account?.nodeStarted(message.node);
        return this.emit({ type: "node_start", node: message.node, step: message.step });
      case "node_end": {
        if (!this.countEvent(bytes)) return;
        const tokens = this.account?.nodeEnded(message.node) ?? 0;
        this.nodeTimings.push({
          node: message.node,
          step: message.step,
          duration_ms: message.duration_ms,
          status: message.status,
          tokens,
        });
        return this.emit({
          type: "node_end",
          node: message.node,
          step: message.step,
          duration_ms: message.duration_ms,
        });
      }
      case "update":
        // One event per node: a chunk of 1024 nodes is 1024 events against the count.
        if (!this.countEvent(bytes, message.data.size)) return;
        return this.emitAll([...message.data].map(([node, update]) => updateEvent(node, update)));
      case "token":
        if (!this.countEvent(bytes)) return;
        return this.emit({ type: "token", node: message.node, content: message.content });
      case "custom":
        if (!this.countEvent(bytes)) return;
        return this.emit({ type: "custom", data: message.data });
      case "chunk":
        // Only a run that asked for chunks records them; a program sending others is ignored, not believed.
        if (!this.request.run?.streamModes.includes(message.mode)) return;
        if (!this.countEvent(bytes)) return;
        return this.emit({ type: "chunk", mode: message.mode, ns: message.ns, data: message.data });
      case "answer":
        if (!this.context.op) return;
        if (bytes > this.config.maxOutputBytes) {
          this.outputLimit(
            `the answer (${bytes} bytes) is over GRAPHBOX_MAX_OUTPUT_BYTES (${this.config.maxOutputBytes} bytes)`,
          );
          return;
        }
        this.end({ kind: "answer", data: message.data });
        return;
      case "debug":
        this.sent.debugBytes += bytes;
        if (this.sent.debugBytes > this.config.maxOutputBytes) {
          this.outputLimit(
            `config.debug's trace is over GRAPHBOX_MAX_OUTPUT_BYTES (${this.config.maxOutputBytes} bytes)`,
          );
          return;
        }
        this.debugSteps.push(message.data);
        return;
      case "checkpoint":
        return (this.checkpointAnswer = this.answer(message));
      case "store":
        // Held like a checkpoint write: the run's end waits for a put in flight.
        return (this.checkpointAnswer = this.answerStore(message));
      case "usage":
        this.reportedUsage.add(message);
        return;
      case "result":
        if (this.context.op) return; // an op ends with its answer, never a result
        if (bytes + this.sent.debugBytes > this.config.maxOutputBytes) {
          this.outputLimit(
            `the answer (result and debug trace, ${bytes + this.sent.debugBytes} bytes) is over GRAPHBOX_MAX_OUTPUT_BYTES (${this.config.maxOutputBytes} bytes)`,
          );
          return;
        }
        this.threadState = message.thread_state ?? null;
        if (message.status === "interrupted") {
          return Promise.resolve(
            this.emit({ type: "interrupt", next: message.next, interrupts: message.interrupts }),
          ).then(() => this.end({ kind: "result", message }));
        }
        this.threadState = message.thread_state ?? null;
        this.end({ kind: "result", message });
        return;
      case "error":
        this.end({ kind: "failure", message });
        return;
    }
  }

  /** Counts events of one frame against the execution's quotas; false (and the execution ends) when it is over one. */
  private countEvent(bytes: number, events = 1): boolean {
    this.sent.events += events;
    this.sent.eventBytes += bytes;
    if (this.sent.events > this.config.maxEvents) {
      this.outputLimit(`the program sent more than GRAPHBOX_MAX_EVENTS (${this.config.maxEvents}) events`);
      return false;
    }
    if (this.sent.eventBytes > this.config.maxEventBytes) {
      this.outputLimit(`the program's events are over GRAPHBOX_MAX_EVENT_BYTES (${this.config.maxEventBytes} bytes)`);
      return false;
    }
    return true;
  }

  private outputLimit(error: string): void {
    this.end({ kind: "engine", code: "GBX_ERR_OUTPUT_LIMIT", error });
  }

  /** Answers a checkpoint request; the next frame is read once the answer is written. */
  private async answer(request: CheckpointRequest): Promise<void> {
    try {
      const value = await answerCheckpointRequest(this.context.checkpoints, this.context.thread, request);
      this.sandbox?.send({ v: 1, type: "response", request_id: request.request_id, ok: true, value });
    } catch (err: unknown) {
      const message = err instanceof Error ? err.message : String(err);
      this.sandbox?.send({ v: 1, type: "response", request_id: request.request_id, ok: false, error: message });
      // Checked by name: the error crossed the store's boundary as data (STYLE.md, "check codes, not classes").
      const name = err instanceof Error ? err.name : "";
      if (name === "CheckpointRejected")
        this.fail("GBX_ERR_SANDBOX", `the program sent a forged checkpoint: ${message}`);
      else if (name === "CheckpointQuotaExceeded")
        this.fail("GBX_ERR_OUTPUT_LIMIT", `the program's checkpoints are over a limit: ${message}`);
      else if (name !== "CheckpointRequestError")
        this.fail("GBX_ERR_INTERNAL", `the engine could not store a checkpoint: ${message}`);
    }
  }

  /** Answers a store request in the thread owner's store; a forged one ends the run. */
  private async answerStore(request: StoreRequest): Promise<void> {
    const { items, thread } = this.context;
    const answer = await answerStoreRequest({ items, owner: thread.owner, config: this.config }, request);
    const { request_id } = request;
    if (answer.ok) this.sandbox?.send({ v: 1, type: "response", request_id, ok: true, value: answer.value });
    else this.sandbox?.send({ v: 1, type: "response", request_id, ok: false, error: answer.error });
    if (!answer.ok && answer.fault) this.fail(answer.fault.code, answer.fault.error);
  }

  /** Resolves once every checkpoint the harness sent has been stored. */
  settled(): Promise<void> {
    return this.checkpointAnswer;
  }

  private async emitAll(events: ExecutionEvent[]): Promise<void> {
    for (const event of events) await this.emit(event);
  }

  private emit(event: ExecutionEvent): void | Promise<void> {
    return this.hooks.onEvent?.(event);
  }

  private faultEnding(fault: ChannelFault): Ending {
    switch (fault.kind) {
      case "output_limit":
        return {
          kind: "engine",
          code: "GBX_ERR_OUTPUT_LIMIT",
          error: `the program's output is over the limit: ${fault.message}`,
        };
      case "protocol":
        return { kind: "engine", code: "GBX_ERR_SANDBOX", error: `the runtime broke the protocol: ${fault.message}` };
      case "internal":
        return { kind: "engine", code: "GBX_ERR_INTERNAL", error: fault.message };
    }
  }

  private exitEnding(exit: ExitInfo): Ending {
    if (exit.limit) return limitEnding(exit.limit);
    const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${String(exit.code)}`;
    return { kind: "engine", code: "GBX_ERR_SANDBOX", error: `the program's process ${how} before reporting a result` };
  }

  private metadata(result: ResultMessage | null): ExecutionMetadata {
    const usage: TokenUsage = this.account?.usage.snapshot() ?? new UsageTotals().snapshot();
    usage.reported_by_program_total = this.reportedUsage.snapshot().total_tokens;
    return {
      duration_ms: Math.round(performance.now() - this.startedAt),
      tokens_used: usage.total_tokens,
      nodes_executed: this.nodeTimings.filter((t) => t.status !== "interrupted").map((t) => t.node),
      execution_id: this.id,
      thread_id: this.request.threadId,
      checkpoint_id: result?.checkpoint_id ?? null,
      runtime: this.request.language,
      token_usage: usage,
      ...(Object.keys(this.config.prices).length > 0 ? { cost: costOf(usage, this.config.prices) } : {}),
      node_timings: this.nodeTimings,
      next: result?.next ?? [],
      interrupts: result?.interrupts ?? [],
      ...(this.request.debug ? { debug: this.debugSteps } : {}),
      logs: this.sandbox?.logs() ?? "",
      ...(this.egress ? { egress: this.egress.report() } : {}),
    };
  }

  private outcome(ending: Ending): ExecutionOutcome {
    if (ending.kind === "answer")
      return this.outcome({ kind: "engine", code: "GBX_ERR_INTERNAL", error: "a run ended with an op's answer" });
    if (ending.kind === "result") {
      const { message } = ending;
      return {
        status: message.status,
        result: { messages: message.messages, state: message.state, metadata: this.metadata(message) },
      };
    }
    const code: ErrorCode = ending.kind === "failure" ? FAILURE_CODES[ending.message.error_type] : ending.code;
    return {
      status: "error",
      error: ending.kind === "failure" ? ending.message.error : ending.error,
      error_type: ERRORS[code].errorType,
      code,
      node: ending.kind === "failure" ? ending.message.node : null,
      traceback: ending.kind === "failure" ? ending.message.traceback : "",
      execution_id: this.id,
      metadata: this.metadata(null),
    };
  }
}

/**
 * The contract's update event, `{type: "update", "<node>": <its update>}`, plus `node`. The node's
 * name is the program's: it may be `type` or `node` (then its update goes under `update`, so the
 * engine's fields keep their meaning), or `__proto__` (a computed key defines an own property).
 */
function updateEvent(node: string, update: unknown): ExecutionEvent {
  const key = node === "type" || node === "node" ? "update" : node;
  return { type: "update", node, [key]: update };
}

/** A sandbox limit the program ran into (memory, processes, CPU seconds, file size), as the contract's error. */
function limitEnding(limit: TrippedLimit): Ending {
  return {
    kind: "engine",
    code: limit.kind === "memory" ? "GBX_ERR_MEMORY_LIMIT" : "GBX_ERR_RESOURCE_LIMIT",
    error: limit.message,
  };
}

export const FAILURE_CODES: Record<FailureMessage["error_type"], ErrorCode> = {
  syntax_error: "GBX_ERR_SYNTAX",
  program_error: "GBX_ERR_PROGRAM",
  no_app: "GBX_ERR_NO_APP",
  invalid_request: "GBX_ERR_INVALID_REQUEST",
};
