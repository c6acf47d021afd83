/**
 * What one execution holds of the egress proxy and has done with it: its credential, its policy,
 * its open connections, its bytes each way against its limits, and a tally per host for
 * `metadata.egress`. Host names are the program's: they stay values in a Map and in an array,
 * never keys of an object, and past MAX_HOSTS distinct ones they share one `(other)` entry.
 */
import { randomBytes } from "node:crypto";
import type { Duplex } from "node:stream";

import type { EgressHostReport } from "../contract/types.ts";
import type { EgressPolicy } from "./policy.ts";

/** Hosts tallied apart per execution; later ones share OTHER_HOSTS. */
export const MAX_HOSTS = 64;
/** Cannot be a host name (parentheses), so it never mixes with a real host's tally. */
export const OTHER_HOSTS = "(other)";

export interface EgressLimits {
  connections: number;
  bytesIn: number;
  bytesOut: number;
  connectionTimeoutMs: number;
}

export interface AccountOptions {
  policy: EgressPolicy;
  limits: EgressLimits;
  /** Called once when the execution has sent or received more than its limit: it is ended. */
  onLimit: (message: string) => void;
}

export class EgressAccount {
  readonly credential = `gbx-egress-${randomBytes(24).toString("base64url")}`;
  readonly policy: EgressPolicy;
  readonly limits: EgressLimits;
  /** Tunnels and forwarded requests in flight: each one connection upstream. */
  readonly connections = new Set<Duplex>();
  private readonly hosts = new Map<string, EgressHostReport>();
  private readonly onLimit: (message: string) => void;
  private bytesIn = 0;
  private bytesOut = 0;
  /** Set once a limit ended the execution: nothing more passes. */
  exceeded = false;
  released = false;

  constructor(
    readonly executionId: string,
    options: AccountOptions,
  ) {
    this.policy = options.policy;
    this.limits = options.limits;
    this.onLimit = options.onLimit;
  }

  private tally(host: string): EgressHostReport {
    const found = this.hosts.get(host);
    if (found) return found;
    const name = this.hosts.size >= MAX_HOSTS ? OTHER_HOSTS : host;
    const entry = this.hosts.get(name) ?? { host: name, requests: 0, bytes_in: 0, bytes_out: 0, refusals: 0 };
    this.hosts.set(name, entry);
    return entry;
  }

  request(host: string): void {
    this.tally(host).requests += 1;
  }

  refusal(host: string): void {
    this.tally(host).refusals += 1;
  }

  /**
   * Counts bytes relayed for `host`; false once the execution is over its limit (the caller drops
   * the connection; the execution is ended through onLimit, once).
   */
  count(host: string, direction: "in" | "out", bytes: number): boolean {
    if (this.exceeded) return false;
    const entry = this.tally(host);
    if (direction === "in") {
      this.bytesIn += bytes;
      entry.bytes_in += bytes;
    } else {
      this.bytesOut += bytes;
      entry.bytes_out += bytes;
    }
    const over =
      this.bytesIn > this.limits.bytesIn
        ? `received more than ${this.limits.bytesIn} bytes through the egress proxy (GRAPHBOX_EGRESS_EXECUTION_BYTES_IN)`
        : this.bytesOut > this.limits.bytesOut
          ? `sent more than ${this.limits.bytesOut} bytes through the egress proxy (GRAPHBOX_EGRESS_EXECUTION_BYTES_OUT)`
          : null;
    if (over === null) return true;
    this.exceeded = true;
    for (const connection of this.connections) connection.destroy();
    this.onLimit(`the execution ${over}`);
    return false;
  }

  /** Per host, in the order first seen: `metadata.egress`. */
  report(): EgressHostReport[] {
    return [...this.hosts.values()].map((entry) => ({ ...entry }));
  }
}
