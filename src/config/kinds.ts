/**
 * The kinds of value an option can hold: how a setting is read (and what the operator is told to
 * use instead when it cannot be), what it accepts and how a value is written back, for the README.
 */
import { relative } from "node:path";

import { PROJECT_ROOT } from "./paths.ts";

export interface Kind<T> {
  /** What a setting may be, for the README (markdown). */
  readonly accepts: string;
  /** The value of a setting; throws an Error that says what to use instead. */
  parse(raw: string): T;
  /** The setting that gives `value` (parse(format(v)) is v); null: no setting does, the variable is unset. */
  format(value: T): string | null;
  /** `value` as the README's default column shows it (markdown). */
  show(value: T): string;
  /** A setting as an error message may quote it (absent: as it is); for settings that hold a password. */
  redact?(raw: string): string;
}

interface KindSpec<T> {
  accepts: string;
  parse(raw: string): T;
  format(value: T): string | null;
  /** Words after a default, e.g. `(8 MiB)`. */
  note?(value: T): string | null;
}

export function kind<T>(spec: KindSpec<T>): Kind<T> {
  return {
    accepts: spec.accepts,
    parse: (raw) => spec.parse(raw),
    format: (value) => spec.format(value),
    show(value) {
      const setting = spec.format(value);
      if (setting === null) return "none";
      const note = spec.note?.(value) ?? null;
      return note === null ? `\`${setting}\`` : `\`${setting}\` ${note}`;
    },
  };
}

/** The kind with no value as well: unset is null. */
export function optional<T>(of: Kind<T>): Kind<T | null> {
  return {
    accepts: of.accepts,
    parse: (raw) => of.parse(raw),
    format: (value) => (value === null ? null : of.format(value)),
    show: (value) => (value === null ? "none" : of.show(value)),
    ...(of.redact ? { redact: of.redact } : {}),
  };
}

export const text = kind<string>({ accepts: "text", parse: (raw) => raw, format: (value) => value });

/** A path; one under the project is shown relative to it, so the README reads the same on every machine. */
export const path: Kind<string> = {
  ...text,
  accepts: "a path",
  show: (value) => `\`${value.startsWith(`${PROJECT_ROOT}/`) ? relative(PROJECT_ROOT, value) : value}\``,
};

export const flag = kind<boolean>({
  accepts: "`1` or `0`",
  parse(raw) {
    if (["1", "true", "yes"].includes(raw.toLowerCase())) return true;
    if (["0", "false", "no"].includes(raw.toLowerCase())) return false;
    throw new Error("expected 1 or 0");
  },
  format: (value) => (value ? "1" : "0"),
});

function wholeNumber(raw: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < min || value > max)
    throw new Error(`expected a whole number from ${min} to ${max}`);
  return value;
}

export function integer(min: number, max: number): Kind<number> {
  return kind({ accepts: `${min}–${max}`, parse: (raw) => wholeNumber(raw, min, max), format: String });
}

const UNITS = [
  ["TiB", 2 ** 40],
  ["GiB", 2 ** 30],
  ["MiB", 2 ** 20],
  ["KiB", 2 ** 10],
] as const;

/** 8388608 as `8 MiB`; a size that is no whole number of KiB as itself. */
function size(bytes: number): string {
  const unit = UNITS.find(([, n]) => bytes >= n && bytes % n === 0);
  return unit ? `${bytes / unit[1]} ${unit[0]}` : String(bytes);
}

/** A size in bytes. */
export function bytes(min: number, max: number): Kind<number> {
  return kind({
    accepts: `${size(min)}–${size(max)}`,
    parse: (raw) => wholeNumber(raw, min, max),
    format: String,
    note: (value) => (size(value) === String(value) ? null : `(${size(value)})`),
  });
}

const MIB = 2 ** 20;

/** A size set in MiB and held in bytes (what the sandbox takes). */
export function mebibytes(min: number, max: number): Kind<number> {
  return kind({
    accepts: `${min}–${max} MiB`,
    parse: (raw) => wholeNumber(raw, min, max) * MIB,
    format: (value) => String(value / MIB),
  });
}

/** `a, b,c`: the items, trimmed; empty ones dropped. */
export const list = kind<string[]>({
  accepts: "comma-separated",
  parse: (raw) =>
    raw
      .split(",")
      .map((item) => item.trim())
      .filter((item) => item !== ""),
  format: (value) => (value.length === 0 ? null : value.join(",")),
});

/**
 * One of `values`. `refused` names values that look right but are not supported, with what to use
 * instead.
 */
export function oneOf<const V extends string>(
  values: readonly V[],
  refused: Readonly<Record<string, string>> = {},
): Kind<V> {
  const expected =
    values.length === 2 ? `expected ${values[0]} or ${values[1]}` : `expected one of ${values.join(", ")}`;
  return kind({
    accepts: values.map((value) => `\`${value}\``).join(", "),
    parse(raw) {
      const value = values.find((v) => v === raw);
      if (value !== undefined) return value;
      const instead = Object.hasOwn(refused, raw) ? refused[raw] : undefined;
      throw new Error(instead ?? expected);
    },
    format: (value) => value,
  });
}

/** An http(s) URL, without its trailing slashes; `example` is what the error suggests. */
export function httpUrl(example: string): Kind<string> {
  return kind({
    accepts: "http(s) URL",
    parse(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`expected an http(s) URL such as ${example}`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:")
        throw new Error(`expected an http(s) URL such as ${example}`);
      return raw.replace(/\/+$/, "");
    },
    format: (value) => value,
  });
}

const POSTGRES_EXAMPLE = "postgres://user:password@host:5432/database";

/**
 * A URL that may hold a password, as an error may quote it: what lies between the user's `:` and
 * the last `@` replaced (read as text, since a setting that is refused may be no URL at all).
 */
function withoutPassword(raw: string): string {
  const at = raw.lastIndexOf("@");
  if (at < 0) return raw;
  const slashes = raw.indexOf("//");
  const colon = raw.indexOf(":", slashes >= 0 && slashes < at ? slashes + 2 : 0);
  return colon < 0 || colon > at ? raw : `${raw.slice(0, colon + 1)}***${raw.slice(at)}`;
}

/** A PostgreSQL URL with its login (password login over TCP); never quoted with its password. */
export const postgresUrl: Kind<string> = {
  ...kind<string>({
    accepts: "`postgres://user:password@host:port/database`",
    parse(raw) {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`expected a URL such as ${POSTGRES_EXAMPLE}`);
      }
      if (url.protocol !== "postgres:" && url.protocol !== "postgresql:")
        throw new Error(`expected a postgres:// URL such as ${POSTGRES_EXAMPLE}`);
      if (url.hostname === "") throw new Error(`the URL names no host; expected ${POSTGRES_EXAMPLE}`);
      return raw;
    },
    format: (value) => value,
  }),
  redact: withoutPassword,
};
