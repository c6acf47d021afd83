/**
 * One account per running execution: the credential its program's LLM clients present, the
 * tokens charged to it, its budget. The credential is random, lives only while the execution
 * runs, and is worthless outside this engine: the real provider keys never leave the gateway.
 */
import { randomBytes } from "node:crypto";

import { UsageTotals, type UsageRecord } from "./meter.ts";

export interface AccountOptions {
  /** Tokens this execution may use; null for no limit. */
  budget: number | null;
  /** Called once, when a call's usage takes the execution over its budget. */
  onBudgetExceeded?: () => void;
}

export class ExecutionAccount {
  readonly credential = `gbx-${randomBytes(24).toString("base64url")}`;
  readonly usage = new UsageTotals();
  readonly tokensByNode = new Map<string, number>();
  /** Nodes running now, as the harness reports them; a call is charged to the node when exactly one runs. */
  readonly runningNodes = new Map<string, number>();
  /** Tokens charged to each running node since it started. */
  private readonly nodeTokens = new Map<string, number>();
  exceeded = false;
  calls = 0;

  constructor(readonly executionId: string, private readonly options: AccountOptions) {}

  get budget(): number | null {
    return this.options.budget;
  }

  nodeStarted(node: string): void {
    this.runningNodes.set(node, (this.runningNodes.get(node) ?? 0) + 1);
  }

  /** Returns the tokens charged to the node while it ran alone (parallel nodes share no attribution). */
  nodeEnded(node: string): number {
    const left = (this.runningNodes.get(node) ?? 1) - 1;
    if (left > 0) this.runningNodes.set(node, left);
    else this.runningNodes.delete(node);
    const tokens = this.nodeTokens.get(node) ?? 0;
    if (left <= 0) this.nodeTokens.delete(node);
    return tokens;
  }

  /** The node a call made now belongs to: the only one running, or null. */
  currentNode(): string | null {
    return this.runningNodes.size === 1 ? [...this.runningNodes.keys()][0]! : null;
  }

  charge(record: UsageRecord): void {
    this.calls += 1;
    this.usage.add(record);
    const nodes = [...this.runningNodes.keys()];
    if (nodes.length === 1) {
      const node = nodes[0]!;
      const tokens = record.input_tokens + record.output_tokens;
      this.tokensByNode.set(node, (this.tokensByNode.get(node) ?? 0) + tokens);
      this.nodeTokens.set(node, (this.nodeTokens.get(node) ?? 0) + tokens);
    }
    const budget = this.options.budget;
    if (!this.exceeded && budget !== null && this.usage.snapshot().total_tokens > budget) {
      this.exceeded = true;
      this.options.onBudgetExceeded?.();
    }
  }
}

export class AccountRegistry {
  private readonly byCredential = new Map<string, ExecutionAccount>();

  open(executionId: string, options: AccountOptions): ExecutionAccount {
    const account = new ExecutionAccount(executionId, options);
    this.byCredential.set(account.credential, account);
    return account;
  }

  /** The live account a credential names, or null. */
  find(credential: string | null): ExecutionAccount | null {
    return credential ? (this.byCredential.get(credential) ?? null) : null;
  }

  close(account: ExecutionAccount): void {
    this.byCredential.delete(account.credential);
  }

  get size(): number {
    return this.byCredential.size;
  }
}
