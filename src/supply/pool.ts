/**
 * Pre-started, single-use sandboxes: each has already loaded its runtime (LangGraph imported)
 * and waits for one job, so a request does not pay the start-up. A sandbox is taken once and
 * never returned: isolation is never traded for speed. The pool grows on misses (up to `max`,
 * and while the waiting sandboxes of every pool fit the shared memory budget) and shrinks when
 * idle; it refills off the request path, one start at a time, so warming up never competes with
 * running executions for more than one core.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

import type { HarnessMessage } from "../contract/protocol/messages.ts";
import type { ChannelFault, Sandbox, SandboxHandlers } from "../sandbox/sandbox.ts";

export interface PoolOptions {
  /** Sandboxes kept ready at least. */
  min: number;
  /** Sandboxes kept ready at most (within the shared budget, if any). */
  max: number;
  /** A minute without a miss shrinks the target by one. */
  shrinkAfterMs?: number;
  /** Shared by every pool: what their waiting sandboxes may hold together. */
  budget?: MemoryBudget;
}

/** The memory every pool's waiting sandboxes may hold together (charged to their cgroups, read once each is ready). */
export class MemoryBudget {
  private readonly pools = new Set<WarmPool>();

  constructor(readonly bytes: number) {}

  join(pool: WarmPool): void {
    this.pools.add(pool);
  }

  leave(pool: WarmPool): void {
    this.pools.delete(pool);
  }

  get usedBytes(): number {
    let used = 0;
    for (const pool of this.pools) used += pool.memoryBytes;
    return used;
  }
}

/**
 * The memory charged to a sandbox's cgroup: what another one waiting costs (a forked child is
 * charged only for the pages it has copied from the zygote). One small file read; PSS from
 * smaps_rollup would walk every page of the process, ~4 ms of the engine's event loop each.
 */
function sandboxMemory(cgroupDirs: string[]): number {
  for (const dir of cgroupDirs) {
    for (const file of ["memory.usage_in_bytes", "memory.current"]) {
      try {
        return Number(readFileSync(join(dir, file), "utf8").trim()) || 0;
      } catch {
        // not this controller or version
      }
    }
  }
  return 0;
}

/** Starts one sandbox for the pool; what it says goes to `handlers` (the pool's relay until it is taken). */
export type WarmLauncher = (handlers: SandboxHandlers) => Promise<Sandbox>;

/**
 * Holds a waiting sandbox's `ready` until an execution takes it. A harness says nothing else
 * before it has a job: anything more is a protocol fault, held (bounded) for the execution.
 */
class Relay implements SandboxHandlers {
  private target: SandboxHandlers | null = null;
  private readonly held: ((target: SandboxHandlers) => void)[] = [];
  ready = false;

  onMessage(message: HarnessMessage, bytes: number): void | Promise<void> {
    if (this.target) return this.target.onMessage(message, bytes);
    if (message.type === "ready" && !this.ready) {
      this.ready = true;
      // `ready` is handled at once by an execution (it returns nothing to wait for).
      this.held.push((t) => {
        t.onMessage(message, bytes)?.catch(() => undefined);
      });
    } else {
      this.onFault({ kind: "protocol", message: `the harness sent ${message.type} before it had a job` });
    }
  }

  onFault(fault: ChannelFault): void {
    if (this.target) this.target.onFault(fault);
    else if (this.held.length < 4) this.held.push((t) => t.onFault(fault));
  }

  attach(target: SandboxHandlers): void {
    this.target = target;
    for (const replay of this.held.splice(0)) replay(target);
  }
}

interface Entry {
  sandbox: Sandbox;
  /** Its memory once ready (its cgroup's charge), 0 until then. */
  bytes: number;
  relay: Relay;
}

export class WarmPool {
  private readonly idle: Entry[] = [];
  private target: number;
  private filling = false;
  /** Bumped by drain(): a sandbox started under an older generation is discarded. */
  private generation = 0;
  private closed = false;
  private lastMiss = Date.now();
  private readonly shrinkTimer: NodeJS.Timeout;
  hits = 0;
  misses = 0;

  /** Memory of the last sandbox measured: what the next one is expected to take. */
  private expectedBytes = 0;

  constructor(
    private readonly launch: WarmLauncher,
    private readonly options: PoolOptions,
  ) {
    this.target = options.min;
    options.budget?.join(this);
    const shrinkAfter = options.shrinkAfterMs ?? 60_000;
    this.shrinkTimer = setInterval(() => this.shrink(shrinkAfter), shrinkAfter).unref();
  }

  get size(): number {
    return this.idle.length;
  }

  get ready(): number {
    return this.idle.filter((e) => e.relay.ready).length;
  }

  /** Memory of the sandboxes waiting here, as charged to their cgroups when each became ready. */
  get memoryBytes(): number {
    return this.idle.reduce((sum, e) => sum + e.bytes, 0);
  }

  /** Room for one more waiting sandbox under the shared budget (the minimum is always kept). */
  private fits(): boolean {
    const budget = this.options.budget;
    return !budget || this.idle.length < this.options.min || budget.usedBytes + this.expectedBytes <= budget.bytes;
  }

  /**
   * A waiting sandbox (preferring one that is ready), handed over to `handlers`: what it said
   * while waiting (its `ready`) is replayed to them. Null on a miss. Refills in the background.
   */
  take(handlers: SandboxHandlers): Sandbox | null {
    const index = this.idle.findIndex((e) => e.relay.ready);
    const entry = index >= 0 ? this.idle.splice(index, 1)[0]! : this.idle.shift();
    if (!entry) {
      this.misses += 1;
      this.lastMiss = Date.now();
      this.target = Math.min(this.options.max, this.target + 1);
    } else this.hits += 1;
    this.fill();
    if (!entry) return null;
    entry.relay.attach(handlers);
    return entry.sandbox;
  }

  /** Starts sandboxes until the target is met, one after another. */
  fill(): void {
    if (this.filling || this.closed) return;
    this.filling = true;
    // Failures here are the pool's, not an execution's: a sandbox that will not start or be removed
    // leaves the pool short until the next fill, and never rejects into the engine.
    (async () => {
      try {
        while (!this.closed && this.idle.length < this.target && this.fits()) {
          const generation = this.generation;
          const relay = new Relay();
          let sandbox: Sandbox;
          try {
            sandbox = await this.launch(relay);
          } catch {
            break; // the next take() tries again
          }
          const entry: Entry = { sandbox, relay, bytes: 0 };
          if (this.closed) {
            await this.discard(entry);
            break;
          }
          // Started from files a drain() has since declared stale: never handed out.
          if (generation !== this.generation) {
            await this.discard(entry);
            continue;
          }
          this.idle.push(entry);
          // One that dies while waiting is dropped (and replaced by the next fill).
          sandbox.exited
            .then(async () => {
              const i = this.idle.indexOf(entry);
              if (i >= 0) {
                this.idle.splice(i, 1);
                await sandbox.destroy();
              }
            })
            .catch(() => undefined);
          await new Promise<void>((resolve) => {
            const wait = setInterval(() => {
              if (relay.ready || !this.idle.includes(entry)) {
                clearInterval(wait);
                if (relay.ready) this.expectedBytes = entry.bytes = sandboxMemory(entry.sandbox.cgroupDirs);
                resolve();
              }
            }, 20);
          });
        }
      } finally {
        this.filling = false;
      }
    })().catch(() => undefined);
  }

  /**
   * Discards every waiting sandbox and starts new ones: they were started from runtime files that
   * have changed since. One being started now is discarded when it is up.
   */
  drain(): void {
    if (this.closed) return;
    this.generation += 1;
    for (const entry of this.idle.splice(0)) this.discard(entry).catch(() => undefined);
    this.fill();
  }

  private shrink(after: number): void {
    if (Date.now() - this.lastMiss < after || this.target <= this.options.min) return;
    this.target -= 1;
    const extra = this.idle.length > this.target ? this.idle.pop() : undefined;
    if (extra) this.discard(extra).catch(() => undefined);
  }

  private async discard(entry: Entry): Promise<void> {
    await entry.sandbox.destroy();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.shrinkTimer);
    this.options.budget?.leave(this);
    await Promise.all(this.idle.splice(0).map((e) => this.discard(e)));
  }
}
