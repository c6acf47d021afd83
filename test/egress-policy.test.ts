/**
 * The egress policy's parts on their own: hosts read into one canonical form whatever their
 * spelling, the refused address ranges, patterns, and the keys file's per-key lists.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { parseEgressList, parseEgressPattern } from "../src/config/egress.ts";
import { loadConfig } from "../src/config/index.ts";
import { parseHost } from "../src/contract/ip.ts";
import { EgressPolicy, patternMatches } from "../src/egress/policy.ts";
import { refusedRange } from "../src/egress/ranges.ts";

test("every spelling of the metadata address reads as 169.254.169.254", () => {
  for (const spelling of [
    "169.254.169.254",
    "2852039166",
    "0251.0376.0251.0376",
    "0xA9FEA9FE",
    "0xa9.0xfe.0xa9.0xfe",
    "169.254.43518",
    "169.16689662",
    "[::ffff:169.254.169.254]",
    "[::FFFF:A9FE:A9FE]",
    "169.254.169.254.",
  ]) {
    const host = parseHost(spelling);
    assert.equal(host?.kind, "ipv4", spelling);
    assert.equal(host.kind === "ipv4" && host.address, "169.254.169.254", spelling);
  }
});

test("names are lower-cased, and what is neither a name nor an address is refused", () => {
  assert.deepEqual(parseHost("Api.Example.COM."), { kind: "name", name: "api.example.com" });
  for (const bad of [
    "",
    "a b",
    "1.2.3.256",
    "[fe80::1%eth0]",
    "host/path",
    "user@host",
    "a..b",
    "-a.com",
    "x".repeat(300),
  ])
    assert.equal(parseHost(bad), null, bad);
});

test("private, loopback, link-local, CGNAT, multicast and reserved addresses are refused; public ones are not", () => {
  const refused = [
    "127.0.0.1",
    "127.1",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.0.1",
    "224.0.0.1",
    "255.255.255.255",
    "[::]",
    "[::1]",
    "[fe80::1]",
    "[fc00::1]",
    "[fd00:ec2::254]",
    "[ff02::1]",
    "[::ffff:10.0.0.1]",
    "[64:ff9b::a9fe:a9fe]",
    "[2002:a9fe:a9fe::1]",
    "[2001:db8::1]",
    "[::127.0.0.1]",
  ];
  for (const text of refused) {
    const host = parseHost(text);
    assert.ok(host && host.kind !== "name", text);
    assert.notEqual(refusedRange(host), null, text);
  }
  for (const text of [
    "93.184.216.34",
    "8.8.8.8",
    "172.32.0.1",
    "100.128.0.1",
    "[2606:4700::1111]",
    "[64:ff9b::808:808]",
  ]) {
    const host = parseHost(text);
    assert.ok(host && host.kind !== "name", text);
    assert.equal(refusedRange(host), null, text);
  }
});

test("patterns: exact names, `*.` suffixes, `*`, ports (none: 80 and 443)", () => {
  const name = parseHost("api.example.com")!;
  const sub = parseHost("a.b.example.com")!;
  assert.ok(patternMatches(parseEgressPattern("api.example.com"), name, 443));
  assert.ok(patternMatches(parseEgressPattern("api.example.com"), name, 80));
  assert.ok(!patternMatches(parseEgressPattern("api.example.com"), name, 22));
  assert.ok(patternMatches(parseEgressPattern("*.example.com"), sub, 443));
  assert.ok(!patternMatches(parseEgressPattern("*.example.com"), parseHost("example.com")!, 443));
  assert.ok(!patternMatches(parseEgressPattern("*.example.com"), parseHost("badexample.com")!, 443));
  assert.ok(patternMatches(parseEgressPattern("*:*"), sub, 5432));
  assert.ok(patternMatches(parseEgressPattern("0x7f000001:8080"), parseHost("127.0.0.1")!, 8080));
  assert.ok(patternMatches(parseEgressPattern("[::1]:8080"), parseHost("[0:0::1]")!, 8080));
  for (const bad of ["a*.example.com", "example.com:0", "example.com:70000", "::1", "http://x.com", "*.", "a b"])
    assert.throws(() => parseEgressPattern(bad), bad);
});

test("each list narrows: a target must be on every one, and a listed address passes the range rule only if every list names it", () => {
  const policy = new EgressPolicy([
    { rule: "engine_list", source: "GRAPHBOX_EGRESS_ALLOW", patterns: parseEgressList("*.example.com,127.0.0.1:9000") },
    { rule: "key_list", source: "key", patterns: parseEgressList("api.example.com,127.0.0.1:9000") },
    { rule: "request_list", source: "config.egress", patterns: parseEgressList(["api.example.com"]) },
  ]);
  assert.equal(policy.refusingLayer(parseHost("api.example.com")!, 443), null);
  assert.equal(policy.refusingLayer(parseHost("www.example.com")!, 443)?.rule, "key_list");
  assert.equal(policy.refusingLayer(parseHost("127.0.0.1")!, 9000)?.rule, "request_list");
  const loopback = parseHost("127.0.0.1")!;
  assert.ok(loopback.kind === "ipv4" && !policy.listsExactly(loopback, 9000));
  assert.ok(new EgressPolicy([{ rule: "engine_list", source: "", patterns: [] }]).closed);
});

test("the keys file gives per-key egress lists, in lines and in JSON", () => {
  const dir = mkdtempSync(join(tmpdir(), "graphbox-egress-keys-"));
  try {
    const lines = join(dir, "keys");
    writeFileSync(
      lines,
      "# comment\nalice sk-alice-0123456789abcdef egress=api.example.com,*.tavily.com\nbob sk-bob-0123456789abcdefgh\ncarol sk-carol-0123456789abcdef egress=\n",
    );
    const config = loadConfig({ GRAPHBOX_API_KEYS_FILE: lines, GRAPHBOX_EGRESS_ALLOW: "*" });
    assert.deepEqual(Object.keys(config.apiKeys).sort(), ["alice", "bob", "carol"]);
    assert.equal(config.apiKeys["alice"], "sk-alice-0123456789abcdef");
    assert.deepEqual(
      config.egress.keyAllow.get("alice")?.map((p) => p.text),
      ["api.example.com", "*.tavily.com"],
    );
    assert.equal(config.egress.keyAllow.get("bob"), undefined);
    assert.deepEqual(config.egress.keyAllow.get("carol"), []);

    const json = join(dir, "keys.json");
    writeFileSync(
      json,
      JSON.stringify({
        dan: { key: "sk-dan-0123456789abcdef", egress: ["x.example.com:8443"] },
        eve: "sk-eve-0123456789abcdef",
      }),
    );
    const fromJson = loadConfig({ GRAPHBOX_API_KEYS_FILE: json });
    assert.equal(fromJson.apiKeys["dan"], "sk-dan-0123456789abcdef");
    assert.deepEqual(fromJson.egress.keyAllow.get("dan")?.[0]?.ports, [8443]);

    writeFileSync(lines, "alice sk-alice-0123456789abcdef egress=bad host\n");
    assert.throws(() => loadConfig({ GRAPHBOX_API_KEYS_FILE: lines }), /GRAPHBOX_API_KEYS_FILE/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
