/** The API keys clients authenticate with, by name: from a list in the environment or from a file. */
import { readFileSync } from "node:fs";

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

/** A file of `name key` lines (# comments), or a JSON object {name: key}. */
export const apiKeysFile = kind<Record<string, string>>({
  accepts: "a path",
  parse(path) {
    let content: string;
    try {
      content = readFileSync(path, "utf8");
    } catch {
      throw new Error("cannot read the file");
    }
    if (content.trim().startsWith("{")) {
      const parsed = JSON.parse(content) as Record<string, unknown>;
      return parseKeys(
        Object.entries(parsed)
          .map(([name, key]) => `${name}=${String(key)}`)
          .join(","),
      );
    }
    const entries = content
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    return parseKeys(entries.map((line) => line.replace(/\s+/, "=")).join(","));
  },
  // Keys are never written out: the only file setting is a path, and no default names one.
  format: () => null,
});
