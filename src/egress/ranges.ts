/**
 * Addresses a program must not reach through the proxy unless the operator listed that exact
 * address: the engine's host and its neighbours (loopback, private, link-local, CGNAT), the cloud
 * metadata services (169.254.169.254, fd00:ec2::254: both inside ranges below), and what is not an
 * ordinary unicast destination (unspecified, multicast, broadcast, reserved, documentation).
 * IPv6 forms that carry an IPv4 address (`::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`)
 * are judged by the IPv4 address they carry.
 */
import type { Host } from "../contract/ip.ts";

type Range = readonly [prefix: readonly number[], bits: number, name: string];

const V4: readonly Range[] = [
  [[169, 254, 169, 254], 32, "the cloud metadata address"],
  [[0, 0, 0, 0], 8, "unspecified (0.0.0.0/8)"],
  [[10, 0, 0, 0], 8, "private (10.0.0.0/8)"],
  [[100, 64, 0, 0], 10, "shared CGNAT space (100.64.0.0/10)"],
  [[127, 0, 0, 0], 8, "loopback (127.0.0.0/8)"],
  [[169, 254, 0, 0], 16, "link-local (169.254.0.0/16)"],
  [[172, 16, 0, 0], 12, "private (172.16.0.0/12)"],
  [[192, 0, 0, 0], 24, "reserved (192.0.0.0/24)"],
  [[192, 0, 2, 0], 24, "documentation (192.0.2.0/24)"],
  [[192, 88, 99, 0], 24, "reserved (192.88.99.0/24)"],
  [[192, 168, 0, 0], 16, "private (192.168.0.0/16)"],
  [[198, 18, 0, 0], 15, "benchmarking (198.18.0.0/15)"],
  [[198, 51, 100, 0], 24, "documentation (198.51.100.0/24)"],
  [[203, 0, 113, 0], 24, "documentation (203.0.113.0/24)"],
  [[224, 0, 0, 0], 4, "multicast (224.0.0.0/4)"],
  [[240, 0, 0, 0], 4, "reserved (240.0.0.0/4, broadcast included)"],
];

const V6: readonly Range[] = [
  [[], 128, "unspecified (::)"],
  [[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 128, "loopback (::1)"],
  [[0, 0x64, 0xff, 0x9b, 0, 1], 48, "NAT64 local use (64:ff9b:1::/48)"],
  [[], 96, "IPv4-compatible (::/96)"],
  [[1, 0, 0, 0, 0, 0, 0, 0], 64, "discard (100::/64)"],
  [[0x20, 0x01, 0x0d, 0xb8], 32, "documentation (2001:db8::/32)"],
  [[0x20, 0x01], 23, "IETF protocol assignments and Teredo (2001::/23)"],
  [[0xfc], 7, "unique local (fc00::/7)"],
  [[0xfe, 0x80], 10, "link-local (fe80::/10)"],
  [[0xfe, 0xc0], 10, "site-local (fec0::/10)"],
  [[0xff], 8, "multicast (ff00::/8)"],
];

function within(bytes: readonly number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i * 8 < bits; i++) {
    const take = Math.min(8, bits - i * 8);
    const mask = (0xff << (8 - take)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

const zeros = (bytes: readonly number[], from: number, to: number): boolean =>
  bytes.slice(from, to).every((b) => b === 0);

/** The IPv4 address an IPv6 one carries, where it is delivered to that IPv4 address. */
function embeddedV4(bytes: readonly number[]): number[] | null {
  if (zeros(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return bytes.slice(12, 16);
  if (within(bytes, [[0, 0x64, 0xff, 0x9b], 96, ""])) return bytes.slice(12, 16);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return bytes.slice(2, 6);
  return null;
}

/** Why this address is refused (its range's name), or null for an ordinary public address. */
export function refusedRange(address: Extract<Host, { kind: "ipv4" | "ipv6" }>): string | null {
  if (address.kind === "ipv4") return V4.find((r) => within(address.bytes, r))?.[2] ?? null;
  const v4 = embeddedV4(address.bytes);
  if (v4) {
    const inner = V4.find((r) => within(v4, r));
    return inner ? `${inner[2]}, inside an IPv6 address` : null;
  }
  return V6.find((r) => within(address.bytes, r))?.[2] ?? null;
}

/** Loopback or unspecified: the engine's own host, whatever port. */
export function isOwnHost(address: Extract<Host, { kind: "ipv4" | "ipv6" }>): boolean {
  const v4 = address.kind === "ipv4" ? address.bytes : embeddedV4(address.bytes);
  if (v4) return v4[0] === 127 || v4[0] === 0;
  return zeros(address.bytes, 0, 15) && ((address.bytes[15] ?? 0) & 0xfe) === 0;
}
