/**
 * One execution's egress policy: the engine's list, then the API key's, then the request's; a
 * target must be on every one (each may only narrow the one before). The address a name resolves
 * to is checked apart (ranges.ts): a refused range passes only when every list names that exact
 * address.
 */
import type { EgressPattern } from "../config/egress.ts";
import type { Host } from "../contract/ip.ts";

/** Why a connection was refused: a fixed set, so metric labels and log fields stay bounded. */
export type RefusalRule =
  | "engine_list"
  | "key_list"
  | "request_list"
  | "address"
  | "own_port"
  | "connections"
  | "invalid_target"
  | "unresolved"
  | "unauthenticated";

export interface PolicyLayer {
  rule: Extract<RefusalRule, "engine_list" | "key_list" | "request_list">;
  /** How the refusal names the list (the setting that would change it). */
  source: string;
  patterns: readonly EgressPattern[];
}

export type Address = Extract<Host, { kind: "ipv4" | "ipv6" }>;

const portMatches = (pattern: EgressPattern, port: number): boolean =>
  pattern.ports === "any" || pattern.ports.includes(port);

/** Whether a pattern names this host (as the program named it) and port. */
export function patternMatches(pattern: EgressPattern, host: Host, port: number): boolean {
  if (!portMatches(pattern, port)) return false;
  const p = pattern.host;
  if (p.kind === "any") return true;
  if (host.kind !== "name") return p.kind === "address" && p.address === host.address;
  if (p.kind === "name") return p.name === host.name;
  return p.kind === "suffix" && host.name.endsWith(`.${p.suffix}`);
}

export class EgressPolicy {
  constructor(readonly layers: readonly PolicyLayer[]) {}

  /** True when no target can pass (a list is empty): the execution gets no egress at all. */
  get closed(): boolean {
    return this.layers.length === 0 || this.layers.some((l) => l.patterns.length === 0);
  }

  /** The first list the target is not on, or null when every list has it. */
  refusingLayer(host: Host, port: number): PolicyLayer | null {
    return this.layers.find((layer) => !layer.patterns.some((p) => patternMatches(p, host, port))) ?? null;
  }

  /** Whether every list names this exact address and port (what lets a refused range through). */
  listsExactly(address: Address, port: number): boolean {
    return this.layers.every((layer) =>
      layer.patterns.some(
        (p) => p.host.kind === "address" && p.host.address === address.address && portMatches(p, port),
      ),
    );
  }
}
