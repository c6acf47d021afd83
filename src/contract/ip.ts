/**
 * A host as a program names it (a request target, a CONNECT authority) or an operator writes it
 * (an egress pattern), read once into one canonical form. IPv4 has many spellings that resolvers
 * accept (`2852039166`, `0251.0376.0251.0376`, `0xA9FEA9FE`, `169.254.43518` are all
 * 169.254.169.254), and IPv6 writes one address many ways (`::ffff:127.0.0.1` is `::ffff:7f00:1`):
 * the WHATWG URL host parser, which Node implements, turns each into one string, and every
 * comparison here is made on that string and the address's bytes, never on what was sent.
 */

export type Host =
  | { kind: "ipv4"; address: string; bytes: readonly number[] }
  | { kind: "ipv6"; address: string; bytes: readonly number[] }
  | { kind: "name"; name: string };

/** DNS names are at most 253 characters; a target longer than that is refused before it is parsed. */
export const MAX_HOST_CHARS = 253;
/** What a host may be written with before it is parsed: a name, an IPv4 spelling, or a bracketed IPv6 address. */
const PLAIN_HOST = /^[A-Za-z0-9._-]+$/;
const BRACKETED_IPV6 = /^\[[0-9A-Fa-f:.]+\]$/;
/** A canonical name: labels of letters, digits, `-` and `_` (SRV-style names), none empty. */
const NAME = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** The host in its canonical form, or null when it is not one (a zone id, a character outside a name's, too long). */
export function parseHost(raw: string): Host | null {
  if (raw.length === 0 || raw.length > MAX_HOST_CHARS + 2) return null;
  const bare = raw.startsWith("[") ? raw : raw.replace(/\.$/, "");
  if (!PLAIN_HOST.test(bare) && !BRACKETED_IPV6.test(bare)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${bare}/`).hostname;
  } catch {
    // The URL parser refuses an IPv4-looking host it cannot read (`1.2.3.256`): so do we.
    return null;
  }
  if (hostname.startsWith("[")) {
    const bytes = ipv6Bytes(hostname.slice(1, -1));
    if (!bytes) return null;
    // An IPv4-mapped address (`::ffff:a.b.c.d`) is that IPv4 address: one name for one destination.
    if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
      const v4 = bytes.slice(12, 16);
      return { kind: "ipv4", address: v4.join("."), bytes: v4 };
    }
    return { kind: "ipv6", address: hostname.slice(1, -1), bytes };
  }
  const v4 = ipv4Bytes(hostname);
  if (v4) return { kind: "ipv4", address: hostname, bytes: v4 };
  if (hostname.length > MAX_HOST_CHARS || !NAME.test(hostname)) return null;
  return { kind: "name", name: hostname };
}

/** The four bytes of a dotted-decimal address (the canonical form only), or null. */
export function ipv4Bytes(text: string): number[] | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : NaN));
  return bytes.every((b) => b >= 0 && b <= 255) ? bytes : null;
}

/** The sixteen bytes of an IPv6 address in any textual form (`::` and a trailing dotted IPv4 included), or null. */
export function ipv6Bytes(text: string): number[] | null {
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(":");
  if (text.includes(".", lastColon)) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    if (!v4) return null;
    tail.push(...v4);
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out = s.split(":").map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN));
    return out.some(Number.isNaN) ? null : out;
  };
  const left = groups(halves[0] ?? "");
  const right = halves.length === 2 ? groups(halves[1] ?? "") : [];
  if (!left || !right) return null;
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return null;
  const all = [...left, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...right];
  const bytes = all.flatMap((g) => [g >> 8, g & 0xff]);
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes;
}

/** An address's canonical text (the URL parser's), for an address a resolver returned. */
export function canonicalAddress(address: string): Host | null {
  return parseHost(address.includes(":") ? `[${address}]` : address);
}
