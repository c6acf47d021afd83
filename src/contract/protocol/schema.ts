/**
 * A small schema language for what a harness sends: each field has a check that either returns
 * the value to keep or throws naming the field. Messages are rebuilt from their declared fields
 * only, so nothing a program adds to a frame reaches the engine.
 */
export class ProtocolError extends Error {
  override name = "ProtocolError";
}

/** Checks one field's value; throws SchemaError with what is wrong. Returns the value to keep. */
export type Check<T> = (value: unknown) => T;

export class SchemaError extends Error {
  override name = "SchemaError";
}

/** Node, model, channel and namespace names: data, and never longer than this. */
export const MAX_NAME_CHARS = 1024;
/** Entries of a list the engine keeps (next nodes, interrupts...). */
export const MAX_LIST_ENTRIES = 10_000;
/** Deepest nesting of arrays and objects a frame may have (JSON.parse reads far deeper than JSON.stringify can write back). */
export const MAX_JSON_DEPTH = 256;

export const string =
  (maxChars = Number.POSITIVE_INFINITY): Check<string> =>
  (value) => {
    if (typeof value !== "string") throw new SchemaError("is not a string");
    if (value.length > maxChars) throw new SchemaError(`is longer than ${maxChars} characters`);
    return value;
  };

export const name: Check<string> = string(MAX_NAME_CHARS);

/** A non-negative whole number a JavaScript number holds exactly. */
export const count: Check<number> = (value) => {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    throw new SchemaError("is not a non-negative integer");
  return value;
};

/** A non-negative finite number (durations). */
export const amount: Check<number> = (value) => {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    throw new SchemaError("is not a non-negative number");
  return value;
};

export const boolean: Check<boolean> = (value) => {
  if (typeof value !== "boolean") throw new SchemaError("is not a boolean");
  return value;
};

export const oneOf =
  <const T extends string>(...choices: T[]): Check<T> =>
  (value) => {
    if (!choices.includes(value as T)) throw new SchemaError(`is not one of ${choices.join(", ")}`);
    return value as T;
  };

export const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (value) =>
    value === null ? null : check(value);

export const list =
  <T>(check: Check<T>, maxEntries = MAX_LIST_ENTRIES): Check<T[]> =>
  (value) => {
    if (!Array.isArray(value)) throw new SchemaError("is not a list");
    if (value.length > maxEntries) throw new SchemaError(`has more than ${maxEntries} entries`);
    return value.map((entry, i) => {
      try {
        return check(entry);
      } catch (err: unknown) {
        throw new SchemaError(`[${i}] ${err instanceof Error ? err.message : String(err)}`);
      }
    });
  };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Any JSON object, kept as it is (its depth was checked with the frame). Its keys are data: never merge it into an engine object. */
export const jsonObject =
  (maxKeys = Number.POSITIVE_INFINITY): Check<Record<string, unknown>> =>
  (value) => {
    if (!isPlainObject(value)) throw new SchemaError("is not an object");
    if (maxKeys !== Number.POSITIVE_INFINITY && Object.keys(value).length > maxKeys)
      throw new SchemaError(`has more than ${maxKeys} keys`);
    return value;
  };

/** Any JSON value. */
export const json: Check<unknown> = (value) => value;

/** An object of these fields; a field that is absent reads as undefined (declare it nullable to allow that). */
export function record<T>(fields: { [K in keyof T]: Check<T[K]> }): Check<T> {
  return (value) => {
    if (!isPlainObject(value)) throw new SchemaError("is not an object");
    const out = {} as T;
    for (const key of Object.keys(fields) as (keyof T & string)[]) {
      try {
        out[key] = fields[key](Object.hasOwn(value, key) ? value[key] : undefined);
      } catch (err: unknown) {
        throw new SchemaError(`.${key} ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return out;
  };
}

/** An object with string keys of one kind of value, returned as a Map (keys are data, never object keys). */
export const mapOf =
  <T>(check: Check<T>, maxEntries = MAX_LIST_ENTRIES): Check<Map<string, T>> =>
  (value) => {
    if (!isPlainObject(value)) throw new SchemaError("is not an object");
    const entries = Object.entries(value);
    if (entries.length > maxEntries) throw new SchemaError(`has more than ${maxEntries} keys`);
    return new Map(
      entries.map(([key, entry]) => {
        if (key.length > MAX_NAME_CHARS) throw new SchemaError(`has a key longer than ${MAX_NAME_CHARS} characters`);
        try {
          return [key, check(entry)];
        } catch (err: unknown) {
          throw new SchemaError(
            `[${JSON.stringify(key.slice(0, 64))}] ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      }),
    );
  };

/**
 * Whether the JSON text nests arrays and objects deeper than `max`, found by one pass over the
 * bytes before it is parsed (brackets inside strings do not count). V8's JSON.parse accepts
 * 200,000 levels; JSON.stringify of that overflows the stack when the engine stores it.
 */
export function nestsDeeperThan(text: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const byte = text[i];
    if (inString) {
      if (byte === 0x5c)
        i++; // backslash: skip the escaped byte
      else if (byte === 0x22) inString = false;
    } else if (byte === 0x22) {
      inString = true;
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > max) return true;
    } else if (byte === 0x7d || byte === 0x5d) {
      depth--;
    }
  }
  return false;
}
