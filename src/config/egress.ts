/**
 * Egress allow-list patterns, as GRAPHBOX_EGRESS_ALLOW, an API key's `egress=` list and a
 * request's `config.egress` write them: `host[:port]`, comma-separated.
 *
 * - host: a name (`api.tavily.com`), `*.` and a suffix (`*.example.com`: any name under it, not
 *   the suffix itself), `*` (any name: the address rules still apply), an IPv4 address in any
 *   spelling or a bracketed IPv6 address (`[2001:db8::1]`), kept in canonical form.
 * - port: a number or `*`; none means 80 and 443, the web's ports, so `api.x.com` does not open
 *   the host's SSH or database ports.
 */
import { parseHost } from "../contract/ip.ts";
import { kind } from "./kinds.ts";

export interface EgressPattern {
  /** As written (for messages). */
  readonly text: string;
  readonly host:
    | { kind: "any" }
    | { kind: "suffix"; suffix: string }
    | { kind: "name"; name: string }
    | { kind: "address"; address: string };
  /** Ports it opens: `any`, or a list. */
  readonly ports: "any" | readonly number[];
}

/** Ports a pattern without one opens. */
export const DEFAULT_EGRESS_PORTS: readonly number[] = [80, 443];
/** Patterns one list may hold: a list is scanned for each connection. */
export const MAX_EGRESS_PATTERNS = 256;

function hostPart(raw: string): EgressPattern["host"] {
  if (raw === "*") return { kind: "any" };
  if (raw.startsWith("*.")) {
    const suffix = parseHost(raw.slice(2));
    if (suffix?.kind !== "name") throw new Error(`\`${raw}\`: a \`*.\` pattern takes a domain name after it`);
    return { kind: "suffix", suffix: suffix.name };
  }
  if (raw.includes("*"))
    throw new Error(`\`${raw}\`: \`*\` may only be the whole host or its first label (\`*.example.com\`)`);
  const host = parseHost(raw);
  if (!host) throw new Error(`\`${raw}\` is not a host name or an IP address`);
  return host.kind === "name" ? { kind: "name", name: host.name } : { kind: "address", address: host.address };
}

/** One `host[:port]` pattern; throws an Error that says what is wrong with it. */
export function parseEgressPattern(text: string): EgressPattern {
  const raw = text.trim();
  // `[v6]:port`, `[v6]`, `host:port` or `host`: a bare IPv6 address must be bracketed, as in a URL.
  const match = /^(\[[^\]]*\]|[^:[\]]+)(?::([0-9]{1,5}|\*))?$/.exec(raw);
  if (!match) throw new Error(`\`${raw}\` is not \`host[:port]\` (an IPv6 address goes in brackets: \`[::1]:8080\`)`);
  const [, hostText = "", portText] = match;
  let ports: EgressPattern["ports"] = DEFAULT_EGRESS_PORTS;
  if (portText === "*") ports = "any";
  else if (portText !== undefined) {
    const port = Number(portText);
    if (port < 1 || port > 65_535) throw new Error(`\`${raw}\`: port ${portText} is not between 1 and 65535`);
    ports = [port];
  }
  return { text: raw, host: hostPart(hostText), ports };
}

/** A list of patterns, from comma-separated text or an array; throws on the first bad one. */
export function parseEgressList(items: string | readonly string[]): EgressPattern[] {
  const texts = (typeof items === "string" ? items.split(",") : items).map((t) => t.trim()).filter((t) => t !== "");
  if (texts.length > MAX_EGRESS_PATTERNS) throw new Error(`more than ${MAX_EGRESS_PATTERNS} patterns`);
  return texts.map(parseEgressPattern);
}

export const egressList = kind<EgressPattern[]>({
  accepts: "comma-separated `host[:port]`",
  parse(raw) {
    try {
      return parseEgressList(raw);
    } catch (err: unknown) {
      throw new Error(`expected \`host[:port]\` patterns: ${err instanceof Error ? err.message : String(err)}`);
    }
  },
  format: (value) => (value.length === 0 ? null : value.map((p) => p.text).join(",")),
});
