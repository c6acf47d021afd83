/**
 * Where executions get their sandboxes. The engine asks for one of a runtime and gets a Sandbox
 * (sandbox/sandbox.ts); how it was made (taken from a pool of pre-started ones, forked from the
 * Python fork server's zygote, started fresh) is the supply's business alone. index.ts composes it.
 */
import type { RuntimeName } from "../contract/types.ts";
import type { DoctorReport } from "../sandbox/doctor.ts";
import type { Sandbox, SandboxHandlers } from "../sandbox/sandbox.ts";
import type { ForkServerState } from "./forked.ts";

/** What a run needs of its sandbox beyond its runtime. */
export interface AcquireOptions {
  /** Receive what the harness says (its `ready` first, replayed by a pre-started sandbox) and channel faults. */
  handlers: SandboxHandlers;
}

/** One runtime's pool of pre-started sandboxes. */
export interface PoolReport {
  runtime: RuntimeName;
  /** Sandboxes waiting (started, ready or not yet). */
  waiting: number;
  /** Of those, the ones whose harness said `ready`. */
  ready: number;
  hits: number;
  misses: number;
  /** Memory charged to the waiting sandboxes' cgroups. */
  memoryBytes: number;
}

/** How sandboxes are being supplied: what /ready shows as `warm_start` and /metrics as the pool gauges. */
export interface SupplyReport {
  pythonForkServer: ForkServerState;
  pools: PoolReport[];
  /** What every pool's waiting sandboxes may hold together. */
  poolMemoryBudgetBytes: number;
  /** Times a runtime's files changed and its warm sandboxes were replaced. */
  runtimeFileChanges: number;
}

export interface SandboxSupply {
  /**
   * Gets every source ready (the gateway must listen already: sandboxes reach it through its
   * socket) and starts filling the pools. Throws SandboxUnavailableError when this host cannot
   * isolate programs and the operator did not opt out. Idempotent.
   */
  start(): Promise<void>;
  /** A sandbox of `runtime`, started or pre-started; throws when none can be had. Yours to destroy. */
  acquire(runtime: RuntimeName, options: AcquireOptions): Promise<Sandbox>;
  /** Read at each /ready and /metrics request. */
  report(): SupplyReport;
  /** Which protections are in force on this host (the doctor's report, probed once). */
  protections(): Promise<DoctorReport>;
  /** Stops refilling, removes the waiting sandboxes, lets acquired ones finish, stops warm parents. Idempotent. */
  close(): Promise<void>;
  /** Kills everything it started, now. */
  destroy(): Promise<void>;
}
