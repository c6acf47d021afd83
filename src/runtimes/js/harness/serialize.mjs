// @ts-check
// Turns LangGraph.js state into the contract's JSON: the same shapes the Python harness's
// serialize.py produces, and nothing JSON cannot hold.
//
// Messages become {role, content, ...} (not LangChain's `lc` constructor form, not toDict());
// class instances become their fields; Sets become arrays (sorted when comparable, as Python
// sorts its sets); Maps become objects (entries when a key is not a string or number); Dates,
// BigInts, bytes and anything else JSON cannot hold become {"__type": <type>, "repr": <text>}.
import { inspect } from "node:util";

import { isBaseMessage } from "@langchain/core/messages";

/** @type {Record<string, string>} */
const ROLES = { human: "user", ai: "assistant", system: "system", tool: "tool", generic: "user", function: "tool" };
const OPTIONAL_MESSAGE_FIELDS = ["name", "id", "tool_call_id"];
const MAX_DEPTH = 64;
const MAX_REPR = 10_000;

/** @param {unknown} value */
function safeRepr(value) {
  try {
    return inspect(value, { depth: 1, breakLength: Infinity }).slice(0, MAX_REPR);
  } catch (err) {
    return `<unrepresentable: ${/** @type {{ name?: unknown } | null | undefined} */ (err)?.name ?? typeof err}>`;
  }
}

/** @param {any} value Anything: its constructor's name is read, whatever it is. */
function typeName(value) {
  try {
    const name = value?.constructor?.name;
    return typeof name === "string" && name ? name : typeof value;
  } catch {
    return typeof value;
  }
}

/** @param {unknown} value */
export function opaque(value) {
  return { __type: typeName(value), repr: safeRepr(value) };
}

/** @param {unknown} value */
function isNonEmptyObject(value) {
  return typeof value === "object" && value !== null && Object.keys(value).length > 0;
}

/**
 * @param {any} message A LangChain message (isBaseMessage), of any class or version.
 * @returns {Record<string, unknown>}
 */
export function messageToJson(message) {
  const type = message.type ?? message._getType();
  const role = type === "generic" ? message.role : undefined;
  /** @type {Record<string, unknown>} */
  const out = { role: role || ROLES[type] || type, content: toJson(message.content) };
  for (const field of OPTIONAL_MESSAGE_FIELDS) {
    if (message[field]) out[field] = message[field];
  }
  if (type === "ai") {
    out.tool_calls = (message.tool_calls ?? []).map((/** @type {any} */ call) => ({
      id: call.id ?? null,
      name: call.name,
      args: toJson(call.args ?? {}),
    }));
    if (isNonEmptyObject(message.usage_metadata)) out.usage_metadata = toJson({ ...message.usage_metadata });
  }
  if (isNonEmptyObject(message.response_metadata)) out.response_metadata = toJson(message.response_metadata);
  return out;
}

/** @param {ArrayBufferView} view */
function bytesOf(view) {
  return Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString("base64");
}

/** @param {unknown[]} items */
function sortedIfComparable(items) {
  if (items.every((item) => typeof item === "string")) return items.sort();
  if (items.every((item) => typeof item === "number")) return /** @type {number[]} */ (items).sort((a, b) => a - b);
  return items;
}

/**
 * @param {any} value An object of the program's: any class, any fields.
 * @param {number} depth
 * @param {Set<unknown>} seen
 * @returns {unknown}
 */
function objectToJson(value, depth, seen) {
  if (isBaseMessage(value)) return messageToJson(value);
  if (Array.isArray(value)) return value.map((item) => toJson(item, depth + 1, seen));
  if (value instanceof Date)
    return { __type: "Date", repr: Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString() };
  if (value instanceof Set) return sortedIfComparable([...value].map((item) => toJson(item, depth + 1, seen)));
  if (value instanceof Map) {
    const entries = [...value.entries()];
    if (entries.every(([key]) => typeof key === "string" || typeof key === "number")) {
      return Object.fromEntries(entries.map(([key, item]) => [String(key), toJson(item, depth + 1, seen)]));
    }
    return entries.map(([key, item]) => [toJson(key, depth + 1, seen), toJson(item, depth + 1, seen)]);
  }
  if (ArrayBuffer.isView(value)) return { __type: typeName(value), repr: bytesOf(value), encoding: "base64" };
  if (value instanceof ArrayBuffer)
    return { __type: "ArrayBuffer", repr: Buffer.from(value).toString("base64"), encoding: "base64" };
  if (value instanceof Error) return { __type: typeName(value), repr: `${value.name}: ${value.message}` };
  if (value instanceof URL) return { __type: "URL", repr: value.href };
  if (value instanceof RegExp || value instanceof Promise || value instanceof WeakMap || value instanceof WeakSet)
    return opaque(value);

  const keys = Object.keys(value);
  const proto = Object.getPrototypeOf(value);
  // A class instance with no fields says nothing as {}: give its type instead (Python's object()).
  if (keys.length === 0 && proto !== null && proto !== Object.prototype) return opaque(value);
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of keys) {
    try {
      out[key] = toJson(value[key], depth + 1, seen);
    } catch {
      out[key] = { __type: "unreadable", repr: `<getter of ${key} threw>` };
    }
  }
  return out;
}

/**
 * A JSON-safe copy of `value`. Never throws: what cannot be represented is described.
 * @param {unknown} value
 * @param {number} depth
 * @param {Set<unknown>} seen
 * @returns {unknown}
 */
export function toJson(value, depth = 0, seen = new Set()) {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case "boolean":
    case "string":
      return value;
    case "number":
      return Number.isFinite(value) ? value : { __type: "number", repr: String(value) };
    case "bigint":
      return { __type: "BigInt", repr: value.toString() };
    case "symbol":
      return { __type: "Symbol", repr: value.toString() };
    case "function":
      return { __type: "Function", repr: safeRepr(value) };
    default:
      break;
  }
  if (depth > MAX_DEPTH) return opaque(value);
  if (seen.has(value)) return { __type: "Circular", repr: "[Circular]" };
  seen.add(value);
  try {
    return objectToJson(value, depth, seen);
  } catch {
    return opaque(value);
  } finally {
    seen.delete(value);
  }
}
