/**
 * Where a connection may go: the target as the program named it is checked against the
 * execution's lists, then the engine resolves the name itself and checks each address; the
 * connection is made to the address checked here, never to a name resolved again (no DNS
 * rebinding between the check and the connect).
 */
import { lookup } from "node:dns/promises";
import { networkInterfaces } from "node:os";

import { canonicalAddress, parseHost, type Host } from "../contract/ip.ts";
import type { EgressAccount } from "./account.ts";
import type { Address, RefusalRule } from "./policy.ts";
import { isOwnHost, refusedRange } from "./ranges.ts";

/** Resolves a name to addresses (the system's resolver by default, /etc/hosts included). */
export type Resolver = (name: string) => Promise<string[]>;

export const RESOLVE_TIMEOUT_MS = 5_000;

export const systemResolver: Resolver = async (name) =>
  (await lookup(name, { all: true, verbatim: true })).map((a) => a.address);

export type Decision =
  | { ok: true; label: string; port: number; address: Address; gateway: boolean }
  | { ok: false; status: number; rule: RefusalRule; label: string | null; port: number; message: string };

export interface Surroundings {
  /** The gateway's loopback port: a target of 127.0.0.1/localhost at this port is the gateway, as inside the sandbox. */
  gatewayPort: number;
  /** The engine's own listening ports (the API's): never reachable on this host's addresses. */
  ownPorts: ReadonlySet<number>;
  resolve: Resolver;
}

/** `host:port` of a CONNECT (`[v6]:port` for IPv6), or null. */
export function splitAuthority(authority: string): { host: string; port: number } | null {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):([0-9]{1,5})$/.exec(authority);
  const port = Number(match?.[2]);
  return match && port >= 1 && port <= 65_535 ? { host: match[1]!, port } : null;
}

const labelOf = (host: Host): string => (host.kind === "name" ? host.name : host.address);

/** The host's own addresses, read per check: interfaces come and go. */
function localAddresses(): Set<string> {
  const found = new Set<string>();
  for (const list of Object.values(networkInterfaces()))
    for (const entry of list ?? []) {
      const address = canonicalAddress(entry.address.replace(/%.*$/, ""));
      if (address && address.kind !== "name") found.add(address.address);
    }
  return found;
}

function resolveWithin(resolve: Resolver, name: string): Promise<string[]> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`no answer within ${RESOLVE_TIMEOUT_MS} ms`)), RESOLVE_TIMEOUT_MS);
    resolve(name).then(
      (addresses) => {
        clearTimeout(timer);
        ok(addresses);
      },
      (err: unknown) => {
        clearTimeout(timer);
        fail(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export async function decide(
  account: EgressAccount,
  target: { host: string; port: number; method: string },
  around: Surroundings,
): Promise<Decision> {
  const { port } = target;
  const shown = `${target.method} ${target.host.slice(0, 300)}:${port}`;
  const host = parseHost(target.host);
  if (!host)
    return {
      ok: false,
      status: 400,
      rule: "invalid_target",
      label: null,
      port,
      message: `${shown} names no valid host`,
    };
  const label = labelOf(host);
  const refuse = (status: number, rule: RefusalRule, why: string): Decision => ({
    ok: false,
    status,
    rule,
    label,
    port,
    message: `graphbox egress: ${target.method} ${label}:${port} refused by ${why}`,
  });
  const loopbackName = host.kind === "name" ? host.name === "localhost" : isOwnHost(host);
  if (loopbackName && port === around.gatewayPort) {
    const gateway = canonicalAddress("127.0.0.1") as Address;
    return { ok: true, label, port, address: gateway, gateway: true };
  }
  const layer = account.policy.refusingLayer(host, port);
  if (layer) return refuse(403, layer.rule, `${layer.source}: ${label}:${port} is not on it`);

  let addresses: Address[];
  if (host.kind === "name") {
    try {
      addresses = (await resolveWithin(around.resolve, host.name))
        .map(canonicalAddress)
        .filter((a): a is Address => a !== null && a.kind !== "name");
    } catch (err: unknown) {
      return refuse(502, "unresolved", `name resolution: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (addresses.length === 0) return refuse(502, "unresolved", `name resolution: ${label} has no address`);
  } else addresses = [host];

  const local = localAddresses();
  let firstRefusal: Decision | null = null;
  for (const address of addresses) {
    if ((isOwnHost(address) || local.has(address.address)) && around.ownPorts.has(port)) {
      return refuse(403, "own_port", `the engine's own listener rule: ${address.address}:${port} is the engine itself`);
    }
    const range = refusedRange(address);
    if (range === null || account.policy.listsExactly(address, port))
      return { ok: true, label, port, address, gateway: false };
    firstRefusal ??= refuse(
      403,
      "address",
      `the address rule: ${label} is ${address.address}, ${range}; only that exact address, listed on GRAPHBOX_EGRESS_ALLOW (and on every narrower list), opens it`,
    );
  }
  return firstRefusal!;
}
