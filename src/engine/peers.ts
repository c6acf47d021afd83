/**
 * An engine among peers on one database. It holds a lease that it renews every third of its
 * length; at each renewal it reaps the leases that lapsed (engines that died: kill -9, a lost
 * machine) and fails the executions they left running, which ends their streams and frees their
 * threads, and gives the runs they had claimed back to the queue. It takes the cancels asked of
 * its executions on any engine, when signalled and at each poll.
 *
 * Its identity is per process (the engine's id); its address is `hostname:port`. Two processes
 * cannot listen on one address, so once this one listens, a live lease at the same address is a
 * predecessor that died without leaving: it is taken over at once instead of after its lease.
 */
import { hostname } from "node:os";

import type { Observers } from "../observability/observer.ts";
import type { CancelAction, ExecutionRecord, NewEvent, Store } from "../store/types.ts";

export interface PeersOptions {
  store: Store;
  engineId: string;
  port: number;
  leaseMs: number;
  pollMs: number;
  observers: Observers;
  /** A cancel asked of one of this engine's executions (from this engine or another). */
  onCancel(executionId: string, action: CancelAction): void;
  /** This engine's lease lapsed and a peer failed its executions: stop what still runs here. */
  onDeclaredDead(): void;
}

/** What /ready and /metrics show of the cluster. */
export interface PeersReport {
  engineId: string;
  address: string;
  leaseMs: number;
  /** Engines with a live lease, this one included. */
  liveEngines: number;
  lastHeartbeatAt: number | null;
  /** Heartbeats that failed (the database unreachable) since start. */
  heartbeatFailures: number;
  /** Engines reaped and executions failed by this engine since start. */
  reapedEngines: number;
  failedExecutions: number;
}

const MESSAGE = "the engine running this execution stopped (its lease in the database lapsed)";

/** The `error` event a failed execution's stream ends with, as any other error's. */
export const deadEngineEvent = (execution: ExecutionRecord, error = MESSAGE): NewEvent => ({
  type: "error",
  data: {
    type: "error",
    status: "error",
    error,
    error_type: "internal_error",
    code: "GBX_ERR_INTERNAL",
    execution_id: execution.id,
  },
});

export class Peers {
  /** `hostname:port`; the port is the one it listens on once known (GRAPHBOX_PORT=0 picks one). */
  address: string;
  private readonly options: PeersOptions;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private registered = false;
  private stopped = false;
  private liveEngines = 0;
  private lastHeartbeatAt: number | null = null;
  private heartbeatFailures = 0;
  private reapedEngines = 0;
  private failedExecutions = 0;
  private taking: Promise<void> | null = null;

  constructor(options: PeersOptions) {
    this.options = options;
    this.address = `${hostname()}:${options.port}`;
  }

  /** Registers the lease and fails what dead engines left; then keeps both going. */
  async start(): Promise<void> {
    await this.heartbeat();
    const { leaseMs, pollMs, store, engineId } = this.options;
    // Neither rejects (each reports its own failures); the catch only satisfies the type of a timer's callback.
    const ignore = (): void => undefined;
    this.heartbeatTimer = setInterval(() => this.heartbeat().catch(ignore), Math.max(100, Math.floor(leaseMs / 3)));
    this.heartbeatTimer.unref();
    this.pollTimer = setInterval(() => this.takeCancels().catch(ignore), pollMs);
    this.pollTimer.unref();
    this.unsubscribe = store.signals.cancels.subscribe(engineId, () => this.takeCancels().catch(ignore));
  }

  /**
   * Called once this engine listens on its port: a live lease at the same address belongs to a
   * process that died there (kill -9) and is taken over now rather than when it lapses.
   */
  async takeOverAddress(port: number): Promise<string[]> {
    const address = `${hostname()}:${port}`;
    if (address !== this.address) {
      this.address = address;
      await this.heartbeat();
    }
    const predecessors = (await this.options.store.cluster.live()).filter(
      (lease) => lease.address === address && lease.engineId !== this.options.engineId,
    );
    for (const lease of predecessors) await this.options.store.cluster.leave(lease.engineId);
    if (predecessors.length > 0) await this.sweep();
    return predecessors.map((lease) => lease.engineId);
  }

  /** Stops renewing and leaves: peers need not wait for the lease to lapse. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.unsubscribe?.();
    if (this.registered) await this.options.store.cluster.leave(this.options.engineId).catch(() => undefined);
  }

  report(): PeersReport {
    return {
      engineId: this.options.engineId,
      address: this.address,
      leaseMs: this.options.leaseMs,
      liveEngines: this.liveEngines,
      lastHeartbeatAt: this.lastHeartbeatAt,
      heartbeatFailures: this.heartbeatFailures,
      reapedEngines: this.reapedEngines,
      failedExecutions: this.failedExecutions,
    };
  }

  private async heartbeat(): Promise<void> {
    if (this.stopped) return;
    const { store, engineId, leaseMs, observers } = this.options;
    try {
      const renewed = await store.cluster.heartbeat({ engineId, address: this.address }, leaseMs);
      if (!renewed && this.registered) this.options.onDeclaredDead();
      this.registered = true;
      this.lastHeartbeatAt = Date.now();
      await this.sweep();
      this.liveEngines = (await store.cluster.live()).length;
    } catch (err: unknown) {
      this.heartbeatFailures++;
      observers.engineFault("cluster", err);
    }
  }

  /** Reaps lapsed leases, then fails every running execution of an engine without one. */
  private async sweep(): Promise<void> {
    const { store } = this.options;
    this.reapedEngines += (await store.cluster.reapExpired()).length;
    const failed = await store.executions.markRunningAsFailed(MESSAGE, {
      ofDeadEngines: true,
      finalEvent: (execution) => deadEngineEvent(execution),
    });
    this.failedExecutions += failed.length;
    await store.runs.recoverFromDeadEngines();
  }

  private takeCancels(): Promise<void> {
    // One taker at a time: a signal and the poll arriving together read the store once.
    this.taking ??= (async () => {
      try {
        const asked = await this.options.store.executions.takeCancelRequests(this.options.engineId);
        for (const { executionId, action } of asked) this.options.onCancel(executionId, action);
      } catch (err: unknown) {
        this.options.observers.engineFault("cluster", err);
      } finally {
        this.taking = null;
      }
    })();
    return this.taking;
  }
}
