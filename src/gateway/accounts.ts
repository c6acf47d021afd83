/**
 * One account per running execution: the credential its program's LLM clients present, the
 * tokens charged to it, its budget. The credential is random, lives only while the execution
 * runs, and is worthless outside this engine: the real provider keys never leave the gateway.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";

import { ByteCount } from "./holdings.ts";
import { UsageTotals, type UsageRecord } from "./meter.ts";
import type { Estimate } from "./reservation.ts";

export interface AccountOptions {
  /** Tokens this execution may use; null for no limit. */
  budget: number | null;
  /** Called once, when a call's usage takes the execution over its budget. */
  onBudgetExceeded?: () => void;
  /** Bytes the gateway may hold for this execution's calls at once (the registry sets it). */
  bufferBytes?: number;
}

/** Tokens set aside for one call in flight, returned when it settles. */
export interface Reservation {
  input: number;
  output: number;
}

/** Why a call's reservation was refused: nothing is left, or what is left is reserved by calls in flight. */
export type ReservationRefusal = "used_up" | "in_flight";

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
  /** Calls received and not yet answered in full (body being read, upstream pending, answer streaming). */
  callsInFlight = 0;
  /** The connections this execution opened to the gateway (a connection belongs to the credential of its first request). */
  readonly connections = new Set<Socket>();
  readonly buffered: ByteCount;
  /** Tokens reserved by calls in flight, and how many such calls hold a reservation. */
  private reservedTokens = 0;
  private reservingCalls = 0;

  constructor(
    readonly executionId: string,
    private readonly options: AccountOptions,
  ) {
    this.buffered = new ByteCount(options.bufferBytes ?? Number.MAX_SAFE_INTEGER);
  }

  get reserved(): number {
    return this.reservedTokens;
  }

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

  /**
   * Sets tokens aside for a call about to be forwarded. It fits when its estimate fits in what
   * the budget has left after the calls in flight; a call that does not fit still runs when no
   * other call is in flight, reserving all that is left, since waiting would not help (as
   * before: the call that takes an execution over its budget ends the execution).
   */
  reserve(estimate: Estimate): Reservation | ReservationRefusal {
    const wanted = estimate.input + estimate.output;
    const budget = this.options.budget;
    if (budget === null || wanted === 0) return this.hold(estimate);
    const available = budget - this.usage.totalTokens - this.reservedTokens;
    if (wanted <= available) return this.hold(estimate);
    if (this.reservingCalls > 0) return "in_flight";
    if (available <= 0) return "used_up";
    const input = Math.min(estimate.input, available);
    return this.hold({ input, output: available - input });
  }

  private hold(reservation: Reservation): Reservation {
    const tokens = reservation.input + reservation.output;
    if (tokens > 0) {
      this.reservedTokens += tokens;
      this.reservingCalls += 1;
    }
    return reservation;
  }

  /**
   * Ends a call's reservation: charges the usage the provider reported or, when the call got an
   * answer whose usage could not be read (the program hung up mid-stream, the answer was cut or
   * too large to read), the reservation itself, so that hanging up before the usage arrives is
   * never free. `charged: null` charges nothing (refused or failed calls).
   */
  settle(reservation: Reservation, charged: UsageRecord | "reservation" | null, model: string): void {
    const tokens = reservation.input + reservation.output;
    if (tokens > 0) {
      this.reservedTokens -= tokens;
      this.reservingCalls -= 1;
    }
    if (charged === "reservation") {
      if (tokens > 0)
        this.charge({
          model,
          input_tokens: reservation.input,
          output_tokens: reservation.output,
          total_tokens: tokens,
        });
    } else if (charged) {
      this.charge(charged);
    }
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
    if (!this.exceeded && budget !== null && this.usage.totalTokens > budget) {
      this.exceeded = true;
      this.options.onBudgetExceeded?.();
    }
  }
}

export class AccountRegistry {
  private readonly byCredential = new Map<string, ExecutionAccount>();

  constructor(private readonly bufferBytes?: number) {}

  open(executionId: string, options: AccountOptions): ExecutionAccount {
    const account = new ExecutionAccount(executionId, { bufferBytes: this.bufferBytes, ...options });
    this.byCredential.set(account.credential, account);
    return account;
  }

  /** The live account a credential names, or null. */
  find(credential: string | null): ExecutionAccount | null {
    return credential ? (this.byCredential.get(credential) ?? null) : null;
  }

  /** Revokes the credential and closes the execution's connections: nothing it started keeps the gateway's memory. */
  close(account: ExecutionAccount): void {
    this.byCredential.delete(account.credential);
    for (const socket of account.connections) socket.destroy();
    account.connections.clear();
  }

  get size(): number {
    return this.byCredential.size;
  }
}
