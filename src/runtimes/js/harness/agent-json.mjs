// @ts-check
// LangGraph.js values as LangGraph's Agent Server writes them to its clients (the Agent API's JSON).
// Mirrors the Python harness's agent_json.py.
//
// Not the contract's shape (serialize.mjs): the server writes a value with JSON.stringify, and a
// message as `{...message.toDict().data, type}` (its `serialiseAsDict`), so messages stay LangChain's
// message dicts (`content`, `additional_kwargs`, `response_metadata`, `tool_calls`, `id`...), a
// value with `toJSON` (a Date) is what that gives, and a key whose value is undefined is left out.
// Unlike JSON.stringify it never throws: a cycle, a BigInt, a class instance without fields, a
// getter that throws are described as serialize.mjs describes them, and depth is bounded.
import { isBaseMessage } from "@langchain/core/messages";

import { opaque, toJson } from "./serialize.mjs";

const MAX_DEPTH = 64;

/**
 * Kinds JSON.stringify would flatten to `{}` (or that have no JSON at all): kept as serialize.mjs keeps them.
 * @type {(value: object) => boolean}
 */
const isContractShaped = (value) =>
  value instanceof Map ||
  value instanceof Set ||
  value instanceof Error ||
  value instanceof ArrayBuffer ||
  ArrayBuffer.isView(value);

/** @type {(value: unknown) => boolean} */
const isSkipped = (value) => value === undefined || typeof value === "function" || typeof value === "symbol";

/**
 * @param {any} value An object of the program's: any class, any fields.
 * @param {number} depth
 * @param {Set<unknown>} seen
 * @returns {unknown}
 */
function objectToAgentJson(value, depth, seen) {
  if (isBaseMessage(value)) {
    const { type, data } = value.toDict();
    return { .../** @type {Record<string, unknown>} */ (toAgentJson(data, depth + 1, seen)), type };
  }
  if (Array.isArray(value)) return value.map((item) => (isSkipped(item) ? null : toAgentJson(item, depth + 1, seen)));
  if (typeof value.toJSON === "function") return toAgentJson(value.toJSON(), depth + 1, seen);
  const keys = Object.keys(value);
  const proto = Object.getPrototypeOf(value);
  if (keys.length === 0 && proto !== null && proto !== Object.prototype) return opaque(value);
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const key of keys) {
    let item;
    try {
      item = value[key];
    } catch {
      out[key] = { __type: "unreadable", repr: `<getter of ${key} threw>` };
      continue;
    }
    if (!isSkipped(item)) out[key] = toAgentJson(item, depth + 1, seen);
  }
  return out;
}

/**
 * A JSON-safe copy of `value` as the Agent Server would write it. Never throws.
 * @param {unknown} value
 * @param {number} depth
 * @param {Set<unknown>} seen
 * @returns {unknown}
 */
export function toAgentJson(value, depth = 0, seen = new Set()) {
  if (typeof value !== "object" || value === null) return toJson(value);
  if (depth > MAX_DEPTH) return opaque(value);
  try {
    if (isContractShaped(value)) return toJson(value, depth, seen);
  } catch {
    return opaque(value);
  }
  if (seen.has(value)) return { __type: "Circular", repr: "[Circular]" };
  seen.add(value);
  try {
    return objectToAgentJson(value, depth, seen);
  } catch {
    return opaque(value);
  } finally {
    seen.delete(value);
  }
}
