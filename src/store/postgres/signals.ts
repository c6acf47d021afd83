/**
 * StoreSignals over LISTEN/NOTIFY: one dedicated connection (never one of the pool's, which
 * come and go) listens on three channels, and every engine on the database hears every writer.
 * A signal is a hint: a follower polls anyway, so a notification lost while the listener
 * reconnects only delays it; on reconnecting, every local subscriber is woken once to re-read.
 *
 * Payloads stay small and plain: a key of printable ASCII up to 64 bytes goes as it is, any other
 * (a long id, `runsKey`'s NUL separator) as its sha256 hex, and subscribers hash the same way.
 */
import { createHash } from "node:crypto";

import pg from "pg";

import type { EventNotifier } from "../follow.ts";
import type { StoreSignals } from "../types.ts";
import type { Queryable } from "./context.ts";

export const CHANNELS = { events: "gbx_events", cancels: "gbx_cancels", runs: "gbx_runs" } as const;
export type Channel = (typeof CHANNELS)[keyof typeof CHANNELS];

/** The payload that stands for `key` on the wire. */
export function wireKey(key: string): string {
  return /^[\x20-\x7e]{1,64}$/.test(key) ? key : createHash("sha256").update(key, "utf8").digest("hex");
}

/**
 * Sends the signal on `on`: inside a transaction it is delivered at COMMIT (never for a
 * rolled-back write), on the pool at once.
 */
export async function notify(on: Queryable, channel: Channel, key: string): Promise<void> {
  await on.query("SELECT pg_notify($1, $2)", [channel, wireKey(key)]);
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5_000;

export interface PostgresSignalsOptions {
  /** The listener's connection settings (the pool's, without the pool). */
  connection: pg.ClientConfig;
  /** Sends a NOTIFY outside any transaction (the pool). */
  send(channel: Channel, payload: string): Promise<void>;
  /** A listener connection that failed or dropped, and when it is tried again. */
  onListenerError?(err: unknown, retryInMs: number): void;
}

class ChannelNotifier implements EventNotifier {
  private readonly listeners = new Map<string, Set<() => void>>();

  constructor(
    private readonly channel: Channel,
    private readonly signals: PostgresSignals,
  ) {}

  publish(key: string): void {
    this.signals.publish(this.channel, key);
  }

  subscribe(key: string, listener: () => void): () => void {
    const wire = wireKey(key);
    let set = this.listeners.get(wire);
    if (!set) this.listeners.set(wire, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(wire) === set) this.listeners.delete(wire);
    };
  }

  /** Calls the listeners of one payload (a NOTIFY), or of every key (`null`: after a reconnect). */
  wake(payload: string | null): void {
    const sets = payload === null ? [...this.listeners.values()] : [this.listeners.get(payload)];
    for (const set of sets) for (const listener of [...(set ?? [])]) listener();
  }
}

export class PostgresSignals implements StoreSignals {
  readonly events: ChannelNotifier;
  readonly cancels: ChannelNotifier;
  readonly runs: ChannelNotifier;

  private readonly byChannel: Map<string, ChannelNotifier>;
  private client: pg.Client | null = null;
  private listeningNow = false;
  private closed = false;
  private backoffMs = BACKOFF_MIN_MS;
  private retry: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly options: PostgresSignalsOptions) {
    this.events = new ChannelNotifier(CHANNELS.events, this);
    this.cancels = new ChannelNotifier(CHANNELS.cancels, this);
    this.runs = new ChannelNotifier(CHANNELS.runs, this);
    this.byChannel = new Map<string, ChannelNotifier>([
      [CHANNELS.events, this.events],
      [CHANNELS.cancels, this.cancels],
      [CHANNELS.runs, this.runs],
    ]);
  }

  /** Whether the listener connection is up and listening. */
  get listening(): boolean {
    return this.listeningNow;
  }

  /** Connects the listener; rejects when the first connection fails (the store's open reports it). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Resolves once the listener is listening (at once when it is). */
  async whenListening(): Promise<void> {
    if (this.listeningNow || this.closed) return;
    await new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  /** A NOTIFY outside any transaction. Without a listener, local subscribers are woken directly too. */
  publish(channel: Channel, key: string): void {
    const payload = wireKey(key);
    if (!this.listeningNow) this.byChannel.get(channel)?.wake(payload);
    this.options.send(channel, payload).catch(() => {
      // A hint lost with its connection: followers poll.
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.retry = null;
    this.listeningNow = false;
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client(this.options.connection);
    client.on("notification", (message) => {
      if (client === this.client) this.byChannel.get(message.channel)?.wake(message.payload ?? "");
    });
    const lost = (err: unknown): void => {
      if (client !== this.client) return;
      this.client = null;
      this.listeningNow = false;
      client.end().catch(() => undefined);
      this.scheduleReconnect(err);
    };
    client.on("error", lost);
    client.on("end", () => lost(new Error("the listener connection ended")));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNELS.events}; LISTEN ${CHANNELS.cancels}; LISTEN ${CHANNELS.runs}`);
    } catch (err: unknown) {
      if (this.client === client) this.client = null;
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed || this.client !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    this.listeningNow = true;
    this.backoffMs = BACKOFF_MIN_MS;
    for (const resolve of this.waiters) resolve();
    this.waiters.clear();
  }

  private scheduleReconnect(err: unknown): void {
    if (this.closed || this.retry) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.options.onListenerError?.(err, delay);
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.closed) return;
      this.connect().then(
        // Whatever was sent while nobody listened is lost: every follower re-reads once.
        () => {
          for (const notifier of this.byChannel.values()) notifier.wake(null);
        },
        (failure: unknown) => this.scheduleReconnect(failure),
      );
    }, delay);
    this.retry.unref();
  }
}
