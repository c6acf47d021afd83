/**
 * Values PostgreSQL cannot hold where SQLite can: TEXT refuses the character U+0000, and JSONB
 * refuses the escape `\u0000` and a lone surrogate (`\ud800`), which JSON.stringify writes for
 * such characters. A value holding one is refused here as an invalid argument, with its name,
 * rather than failing in the database as an internal error.
 */
import { StoreError } from "../errors.ts";
import { text, toJson } from "../validate.ts";

// An escape of U+0000 or of a surrogate, preceded by an even number of backslashes (so the
// backslash is an escape's, not a literal one). JSON.stringify writes a paired surrogate as the
// character itself, so any surrogate escape in its output is a lone one.
const UNHOLDABLE_ESCAPE = /(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i;

/** The JSON text of `value` for a JSONB parameter (`$n::jsonb`). */
export function jsonbText(name: string, value: unknown): string {
  return holdableJson(name, toJson(name, value));
}

/** `json` (JSON.stringify's output) when JSONB can hold it. */
export function holdableJson(name: string, json: string): string {
  if (UNHOLDABLE_ESCAPE.test(json))
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `${name} holds the character U+0000 or an unpaired surrogate, which PostgreSQL's JSON cannot store`,
    );
  return json;
}

/** `value` when it is a string PostgreSQL's TEXT can hold (no U+0000), else GBX_STORE_INVALID_ARGUMENT. */
export function pgText(name: string, value: string): string {
  if (text(name, value).includes("\u0000"))
    throw new StoreError(
      "GBX_STORE_INVALID_ARGUMENT",
      `${name} holds the character U+0000, which PostgreSQL cannot store`,
    );
  return value;
}
