// @ts-check
// The serializer of the harness's checkpoints.
//
// LangGraph.js's JsonPlusSerializer goes through JSON.stringify: a BigInt makes it write a broken
// checkpoint (the next getState throws "Cannot read properties of undefined"), a Date comes back
// as a string, NaN as null, a Buffer as {type: "Buffer", data: [...]}, a Float64Array as an object
// of indices. GraphboxSerializer encodes those first as inert constructor records (the library
// keeps records it does not know as plain objects) and revives them after loading, so state
// survives a checkpoint as the program wrote it.
import { JsonPlusSerializer } from "@langchain/langgraph-checkpoint";

const PREFIX = "graphbox.";

/**
 * @param {string} kind
 * @param {unknown[]} args
 */
function record(kind, args) {
  return { lc: 2, type: "constructor", id: [PREFIX + kind], method: null, args, kwargs: {} };
}

/** @param {object} value */
function isPlainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * @param {unknown} value
 * @param {Set<object>} seen
 * @returns {unknown}
 */
function encode(value, seen) {
  if (typeof value === "bigint") return record("BigInt", [value.toString()]);
  if (typeof value === "number") return Number.isFinite(value) ? value : record("Number", [String(value)]);
  if (typeof value !== "object" || value === null) return value;
  if (value instanceof Date) return record("Date", [String(value.getTime())]);
  // Buffer.toJSON would run before the library sees the bytes, leaving {type: "Buffer", data: [...]}.
  if (Buffer.isBuffer(value)) return record("Buffer", [value.toString("base64")]);
  if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array) && !(value instanceof DataView)) {
    return record("TypedArray", [
      value.constructor.name,
      Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"),
    ]);
  }
  // Only containers are copied; class instances (messages, Send, ...) keep the library's own handling.
  if (seen.has(value)) return value;
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => encode(item, seen));
    if (value instanceof Map) return new Map([...value].map(([k, v]) => [encode(k, seen), encode(v, seen)]));
    if (value instanceof Set) return new Set([...value].map((item) => encode(item, seen)));
    if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v, seen)]));
    return value;
  } finally {
    seen.delete(value);
  }
}

/** @type {Record<string, { new (buffer: ArrayBuffer): ArrayBufferView, BYTES_PER_ELEMENT: number }>} */
const TYPED_ARRAYS = {
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/**
 * @param {string} kind
 * @param {unknown[]} args
 */
function revive(kind, args) {
  switch (kind) {
    case "BigInt":
      return BigInt(/** @type {string} */ (args[0]));
    case "Number":
      return Number(args[0]);
    case "Date":
      return new Date(Number(args[0]));
    case "Buffer":
      return Buffer.from(String(args[0]), "base64");
    case "TypedArray": {
      const name = /** @type {string} */ (args[0]);
      const Ctor = Object.hasOwn(TYPED_ARRAYS, name) ? TYPED_ARRAYS[name] : null;
      const bytes = Buffer.from(String(args[1]), "base64");
      if (!Ctor || bytes.length % Ctor.BYTES_PER_ELEMENT !== 0) return undefined;
      return new Ctor(new Uint8Array(bytes).buffer);
    }
    default:
      return undefined;
  }
}

/**
 * @param {any} value What the library loaded: JSON's shapes and its own revived classes.
 * @returns {unknown}
 */
function decode(value) {
  if (typeof value !== "object" || value === null) return value;
  if (
    value.lc === 2 &&
    value.type === "constructor" &&
    Array.isArray(value.id) &&
    typeof value.id[0] === "string" &&
    value.id[0].startsWith(PREFIX)
  ) {
    let revived;
    try {
      revived = revive(value.id[0].slice(PREFIX.length), Array.isArray(value.args) ? value.args : []);
    } catch {
      revived = undefined; // not one of ours after all: keep the record as data
    }
    return revived === undefined ? value : revived;
  }
  if (Array.isArray(value)) return value.map(decode);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [decode(k), decode(v)]));
  if (value instanceof Set) return new Set([...value].map(decode));
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) value[key] = decode(value[key]);
  }
  return value;
}

export class GraphboxSerializer extends JsonPlusSerializer {
  /** @param {unknown} obj */
  _dumps(obj) {
    return super._dumps(encode(obj, new Set()));
  }

  /** @param {string} data */
  async _loads(data) {
    return decode(await super._loads(data));
  }
}
