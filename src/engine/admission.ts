/**
 * Admission control: a bounded number of executions run at once, a bounded queue waits for a
 * slot for a bounded time, and each API key may have its own concurrency and rate limits. Past
 * them the answer is 429 (this key, over a limit configured for keys) or 503 (the engine: queue
 * full, or no slot within the wait), with Retry-After, never a timeout or a crash.
 *
 * Without per-key limits (the default) one key may use every slot and the whole queue: an engine
 * without API keys serves everyone as one anonymous key, so a designer's backend sending a burst
 * must be queued, not refused while the queue is empty.
 */
import { GraphboxError } from "../contract/errors.ts";

export interface AdmissionLimits {
  maxConcurrent: number;
  queueSize: number;
  queueTimeoutMs: number;
  /** 0: no per-key limit (the engine's slots and queue bound every key). */
  keyMaxConcurrent: number;
  /** 0: unlimited. */
  keyRatePerMinute: number;
}

export interface Ticket {
  /** Time spent queued, in ms. */
  queueMs: number;
  release(): void;
}

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/** Token bucket per key: `rate` starts per minute, bursts up to `rate`. */
class RateBucket {
  private tokens: number;
  private updatedAt = Date.now();
  constructor(private readonly perMinute: number) {
    this.tokens = perMinute;
  }
  take(): number | null {
    const now = Date.now();
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.updatedAt) / 60_000) * this.perMinute);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return null;
    }
    return Math.ceil(((1 - this.tokens) / this.perMinute) * 60);
  }
  /** Gives back a start the engine refused or never made (full, or no slot in time): those count against the engine, not the key. */
  refund(): void {
    this.tokens = Math.min(this.perMinute, this.tokens + 1);
  }
}

export class Admission {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private readonly perKey = new Map<string, number>();
  private readonly buckets = new Map<string, RateBucket>();
  private closed = false;

  constructor(private readonly limits: AdmissionLimits) {}

  get inFlight(): number {
    return this.running;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Stops admitting: every later acquire answers 503 (shutdown). */
  close(): void {
    this.closed = true;
  }

  async acquire(owner: string): Promise<Ticket> {
    if (this.closed)
      throw new GraphboxError("GBX_ERR_SHUTTING_DOWN", "the engine is shutting down", { retryAfterSeconds: 5 });
    const held = this.perKey.get(owner) ?? 0;
    const keyLimit = this.limits.keyMaxConcurrent;
    if (keyLimit > 0 && held >= keyLimit) {
      throw new GraphboxError(
        "GBX_ERR_RATE_LIMITED",
        `this API key already has ${held} executions running or queued (its limit, GRAPHBOX_KEY_MAX_CONCURRENT, is ${keyLimit})`,
        { retryAfterSeconds: 1 },
      );
    }
    let bucket: RateBucket | null = null;
    if (this.limits.keyRatePerMinute > 0) {
      bucket = this.buckets.get(owner) ?? null;
      if (!bucket) this.buckets.set(owner, (bucket = new RateBucket(this.limits.keyRatePerMinute)));
      const wait = bucket.take();
      if (wait !== null) {
        throw new GraphboxError(
          "GBX_ERR_RATE_LIMITED",
          `this API key is over its rate of ${this.limits.keyRatePerMinute} executions per minute (GRAPHBOX_KEY_RATE_PER_MINUTE)`,
          { retryAfterSeconds: wait },
        );
      }
    }
    const queuedAt = performance.now();
    if (this.running >= this.limits.maxConcurrent) {
      if (this.queue.length >= this.limits.queueSize) {
        bucket?.refund();
        throw new GraphboxError(
          "GBX_ERR_OVERLOADED",
          `the engine is full: ${this.running} executions running and ${this.queue.length} queued (GRAPHBOX_MAX_CONCURRENT, GRAPHBOX_QUEUE_SIZE)`,
          { retryAfterSeconds: this.retryAfter() },
        );
      }
      this.perKey.set(owner, held + 1);
      try {
        await this.wait();
      } catch (err: unknown) {
        this.releaseKey(owner);
        bucket?.refund();
        throw err;
      }
      // The releasing execution handed its slot over: `running` already counts this one.
    } else {
      this.perKey.set(owner, held + 1);
      this.running += 1;
    }
    let released = false;
    return {
      queueMs: performance.now() - queuedAt,
      release: () => {
        if (released) return;
        released = true;
        this.releaseKey(owner);
        const next = this.queue.shift();
        if (next) next.grant();
        else this.running -= 1;
      },
    };
  }

  private wait(): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve();
        },
        timer: setTimeout(() => {
          this.queue.splice(this.queue.indexOf(waiter), 1);
          reject(
            new GraphboxError(
              "GBX_ERR_OVERLOADED",
              `no execution slot freed within ${this.limits.queueTimeoutMs} ms (GRAPHBOX_QUEUE_TIMEOUT_MS)`,
              { retryAfterSeconds: this.retryAfter() },
            ),
          );
        }, this.limits.queueTimeoutMs),
      };
      this.queue.push(waiter);
    });
  }

  private releaseKey(owner: string): void {
    const left = (this.perKey.get(owner) ?? 1) - 1;
    if (left > 0) this.perKey.set(owner, left);
    else this.perKey.delete(owner);
  }

  /** A hint proportional to how backed up the engine is. */
  private retryAfter(): number {
    return Math.max(1, Math.ceil((this.queue.length + 1) / Math.max(1, this.limits.maxConcurrent)));
  }
}
