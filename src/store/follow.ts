/**
 * Following an execution's event log as it grows, for every backend: an `EventNotifier` says
 * "this execution's log or status changed" and `followEvents` re-reads the log when told, or
 * every `pollIntervalMs` as a safety net (a writer in another process whose signal does not reach
 * here). SQLite uses the in-process notifier below; PostgreSQL fills the same hook with
 * LISTEN/NOTIFY so that a client can follow from any engine node.
 */
import type { EventNotifier, StoredEvent } from "./types.ts";

export type { EventNotifier };

/** The `StoreSignals.runs` key of a thread. */
export const runsKey = (owner: string, threadId: string): string => `${owner}\u0000${threadId}`;
/** The `StoreSignals.runs` key every dispatcher listens on: a run may be waiting to be claimed. */
export const RUNS_ANY = "*";

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

/** How much one read of a log may load. */
export interface BatchLimits {
  /** Events. */
  count: number;
  /**
   * Bytes of stored event data: the batch ends with the event that reaches it (so one event
   * larger than this still comes, alone).
   */
  bytes: number;
}

/** One read of a log: `more` when it stopped at a limit rather than at the end of the log. */
export interface EventBatch {
  events: StoredEvent[];
  more: boolean;
}

/** What `followEvents` needs from a backend, for one execution already checked to be the caller's. */
export interface FollowSource {
  executionId: string;
  notifier: EventNotifier;
  /** Events with seq > afterSeq, oldest first, within `limits`. */
  read(afterSeq: number, limits: BatchLimits): Promise<EventBatch>;
  /** False once the execution has ended (or is gone). */
  isRunning(): Promise<boolean>;
  /** Re-read at least this often even without a notification. */
  pollIntervalMs: number;
  signal: AbortSignal;
}

/**
 * A replay holds one batch at a time: a log of many large events (each up to the output limit)
 * is read a bounded slice after another, never 500 rows at once.
 */
export const FOLLOW_BATCH: BatchLimits = { count: 500, bytes: 1024 * 1024 };

/** `EventLog.read`'s default page (a caller may ask for fewer events, never more). */
export const READ_LIMIT = 1000;
/** `read` (not a follow) is bounded the same way: at most this many bytes of event data, past the first event. */
export const READ_BYTES = 4 * 1024 * 1024;

export async function* followEvents(
  source: FollowSource,
  afterSeq: number,
): AsyncGenerator<StoredEvent, void, undefined> {
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
      const batch = await source.read(after, FOLLOW_BATCH);
      for (const event of batch.events) {
        if (signal.aborted) return;
        yield event;
        after = event.seq;
      }
      if (batch.more) continue;
      if (!(await source.isRunning())) {
        // Ended: whatever was appended before the status changed is still to be delivered.
        for (;;) {
          const rest = await source.read(after, FOLLOW_BATCH);
          for (const event of rest.events) {
            if (signal.aborted) return;
            yield event;
            after = event.seq;
          }
          if (!rest.more) return;
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
