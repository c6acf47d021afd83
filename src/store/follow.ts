/**
 * Following an execution's event log as it grows, for every backend: an `EventNotifier` says
 * "this execution's log or status changed" and `followEvents` re-reads the log when told, or
 * every `pollIntervalMs` as a safety net (a writer in another process whose signal does not reach
 * here). SQLite uses the in-process notifier below; PostgreSQL fills the same hook with
 * LISTEN/NOTIFY so that a client can follow from any engine node.
 */
import type { StoredEvent } from "./types.ts";

export interface EventNotifier {
  /** Wakes the followers of `executionId` (new event, or the execution ended). */
  publish(executionId: string): void;
  /** Calls `listener` on each publish for `executionId` until the returned function is called. */
  subscribe(executionId: string, listener: () => void): () => void;
}

/** Followers in this process. */
export class InProcessNotifier implements EventNotifier {
  private readonly listeners = new Map<string, Set<() => void>>();

  publish(executionId: string): void {
    for (const listener of this.listeners.get(executionId) ?? []) listener();
  }

  subscribe(executionId: string, listener: () => void): () => void {
    let set = this.listeners.get(executionId);
    if (!set) this.listeners.set(executionId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(executionId) === set) this.listeners.delete(executionId);
    };
  }
}

/** What `followEvents` needs from a backend, for one execution already checked to be the caller's. */
export interface FollowSource {
  executionId: string;
  notifier: EventNotifier;
  /** Events with seq > afterSeq, oldest first, at most `limit`. */
  read(afterSeq: number, limit: number): Promise<StoredEvent[]>;
  /** False once the execution has ended (or is gone). */
  isRunning(): Promise<boolean>;
  /** Re-read at least this often even without a notification. */
  pollIntervalMs: number;
  signal: AbortSignal;
}

const BATCH = 500;

export async function* followEvents(source: FollowSource, afterSeq: number): AsyncGenerator<StoredEvent, void, undefined> {
  const { signal } = source;
  let after = afterSeq;
  // Subscribe before the first read so that nothing appended between a read and the wait is
  // missed: a notification that arrives meanwhile sets `woken` and the wait is skipped.
  let woken = false;
  let wake: (() => void) | null = null;
  const unsubscribe = source.notifier.subscribe(source.executionId, () => {
    woken = true;
    wake?.();
  });
  const onAbort = (): void => wake?.();
  signal.addEventListener("abort", onAbort);
  try {
    while (!signal.aborted) {
      woken = false;
      const batch = await source.read(after, BATCH);
      for (const event of batch) {
        if (signal.aborted) return;
        yield event;
        after = event.seq;
      }
      if (batch.length === BATCH) continue;
      if (!(await source.isRunning())) {
        // Ended: whatever was appended before the status changed is still to be delivered.
        for (;;) {
          const rest = await source.read(after, BATCH);
          for (const event of rest) {
            if (signal.aborted) return;
            yield event;
            after = event.seq;
          }
          if (rest.length < BATCH) return;
        }
      }
      if (woken) continue;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          wake = null;
          resolve();
        };
        const timer = setTimeout(done, source.pollIntervalMs);
        wake = done;
        if (woken || signal.aborted) done();
      });
    }
  } finally {
    unsubscribe();
    signal.removeEventListener("abort", onAbort);
  }
}
