/** The API keys clients authenticate with, by name: from a list in the environment or from a file. */
import { readFileSync } from "node:fs";

import { parseEgressList, type EgressPattern } from "./egress.ts";
import { kind } from "./kinds.ts";

const MIN_KEY_LENGTH = 16;

/** `name=key,name2=key2` (a bare key is named key1, key2... by position). */
function parseKeys(raw: string): Record<string, string> {
  const keys: Record<string, string> = {};
  raw
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "")
    .forEach((entry, i) => {
      const eq = entry.indexOf("=");
      const [name, key] = eq > 0 ? [entry.slice(0, eq).trim(), entry.slice(eq + 1).trim()] : [`key${i + 1}`, entry];
      if (key.length < MIN_KEY_LENGTH)
        throw new Error(`the key named ${name} is shorter than ${MIN_KEY_LENGTH} characters`);
      keys[name] = key;
    });
  return keys;
}

export const apiKeyList = kind<Record<string, string>>({
  accepts: "`name=key` list",
  parse: parseKeys,
  format: (keys) =>
    Object.keys(keys).length === 0
      ? null
      : Object.entries(keys)
          .map(([name, key]) => `${name}=${key}`)
          .join(","),
});

/** What the keys file holds: the keys by name, and the egress list of each key that has one. */
export interface KeysFile {
  keys: Record<string, string>;
  /** By key name; a key without `egress=` has none here and is held to the engine's list. */
  egress: Map<string, EgressPattern[]>;
}

/** `egress=a.com,*.b.com` after a line's key (empty: no egress for this key). */
function lineOption(name: string, option: string, egress: KeysFile["egress"]): void {
  if (!option.startsWith("egress="))
    throw new Error(`the key named ${name} has an unknown setting; only \`egress=host,...\` may follow a key`);
  egress.set(name, parseEgressList(option.slice("egress=".length)));
}

/** A JSON entry: the key, or `{"key": ..., "egress": [...]}`. */
function jsonEntry(name: string, value: unknown, egress: KeysFile["egress"]): string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return String(value);
  const entry = value as { key?: unknown; egress?: unknown };
  if (entry.egress !== undefined) {
    if (!Array.isArray(entry.egress) || !entry.egress.every((p) => typeof p === "string"))
      throw new Error(`the key named ${name}: \`egress\` must be a list of \`host[:port]\` strings`);
    egress.set(name, parseEgressList(entry.egress as string[]));
  }
  return String(entry.key);
}

/**
 * A file of `name key` lines (# comments), or a JSON object {name: key}. A line may end in
 * `egress=host,...` (JSON: `{name: {"key": ..., "egress": [...]}}`): that key's egress list, which
 * may only narrow GRAPHBOX_EGRESS_ALLOW.
 */
export const apiKeysFile = kind<KeysFile>({
  accepts: "a path",
  parse(path) {
    let content: string;
    try {
      content = readFileSync(path, "utf8");
    } catch {
      throw new Error("cannot read the file");
    }
    const egress: KeysFile["egress"] = new Map();
    if (content.trim().startsWith("{")) {
      const parsed = JSON.parse(content) as Record<string, unknown>;
      const keys = parseKeys(
        Object.entries(parsed)
          .map(([name, value]) => `${name}=${jsonEntry(name, value, egress)}`)
          .join(","),
      );
      return { keys, egress };
    }
    const entries = content
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"))
      .map((line) => {
        const [name = "", key = "", ...options] = line.split(/\s+/);
        for (const option of options) lineOption(name, option, egress);
        return `${name}=${key}`;
      });
    return { keys: parseKeys(entries.join(",")), egress };
  },
  // Keys are never written out: the only file setting is a path, and no default names one.
  format: () => null,
});
