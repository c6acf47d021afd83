// @ts-check
// LangGraph's long-term memory store, kept in the engine's store through the channel. Mirrors the
// Python harness's store.py.
//
// The harness puts this in place of any store the program compiled with (`new InMemoryStore()`),
// so `config.store` and `getStore()` reach the API key's items, and memories written on one thread
// are found on another. The program never holds a database handle: the engine answers each
// operation in the owner's store.
//
// Semantic search is not available (the engine keeps no embeddings): a search with `query`
// answers as a filter-only search, as LangGraph's `InMemoryStore` without an `index` does; a put's
// `index` is ignored, as it is there.
import { AsyncBatchedStore, BaseStore, InvalidNamespaceError } from "@langchain/langgraph-checkpoint";

import { toJson } from "./serialize.mjs";

/**
 * @typedef {import("@langchain/langgraph-checkpoint").Operation} Operation
 * @typedef {import("@langchain/langgraph-checkpoint").Item} Item
 * @typedef {import("@langchain/langgraph-checkpoint").SearchItem} SearchItem
 * @typedef {import("@langchain/langgraph-checkpoint").ListNamespacesOperation} ListNamespacesOperation
 * @typedef {import("./types.js").StoreOp} StoreOp
 * @typedef {import("./types.js").ItemRow} ItemRow
 */

/**
 * @param {unknown} namespace
 * @param {string} what
 * @returns {string[]}
 */
function labels(namespace, what = "namespace") {
  if (!Array.isArray(namespace) || !namespace.every((label) => typeof label === "string"))
    throw new InvalidNamespaceError(`${what} must be a list of strings`);
  return namespace;
}

/** @param {unknown} key */
function key(key) {
  if (typeof key !== "string") throw new TypeError(`a store key must be a string, got ${typeof key}`);
  return key;
}

/**
 * @param {unknown} value
 * @param {string} what
 */
function whole(value, what) {
  if (!Number.isSafeInteger(value)) throw new TypeError(`${what} must be a whole number, got ${String(value)}`);
  return /** @type {number} */ (value);
}

/**
 * @param {unknown} value
 * @param {string} what
 */
function object(value, what) {
  const json = typeof value === "object" && value !== null && !Array.isArray(value) ? toJson(value) : null;
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new TypeError(`${what} must be an object`);
  return json;
}

/**
 * @param {ItemRow} row
 * @returns {Item}
 */
const item = (row) => ({
  namespace: row.namespace,
  key: row.key,
  value: row.value,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

/** @param {ListNamespacesOperation} op */
function conditions(op) {
  /** @type {{ prefix: string[] | null, suffix: string[] | null }} */
  const paths = { prefix: null, suffix: null };
  for (const { matchType, path } of op.matchConditions ?? []) {
    if (matchType !== "prefix" && matchType !== "suffix")
      throw new Error(`unsupported namespace match type ${String(matchType)}`);
    if (paths[matchType] !== null) throw new Error(`the engine's store takes one ${matchType} condition at a time`);
    paths[matchType] = labels(path, matchType);
  }
  return paths;
}

export class EngineStore extends BaseStore {
  /** @param {import("./channel.mjs").Channel} channel */
  constructor(channel) {
    super();
    this.channel = channel;
  }

  /**
   * @param {StoreOp} op
   * @param {Record<string, unknown>} args
   */
  call(op, args) {
    return this.channel.request("store", { op, args });
  }

  /**
   * One operation, told apart by its fields as LangGraph's InMemoryStore does.
   * @param {Operation} op
   */
  one(op) {
    if ("namespacePrefix" in op) {
      if (op.query !== undefined && op.query !== null && typeof op.query !== "string")
        throw new TypeError("a search query must be a string");
      const rows = /** @type {(ItemRow & { score: number | null })[]} */ (
        this.call("search", {
          namespace_prefix: labels(op.namespacePrefix, "namespacePrefix"),
          filter: op.filter === undefined || op.filter === null ? null : object(op.filter, "a search filter"),
          limit: whole(op.limit ?? 10, "limit"),
          offset: whole(op.offset ?? 0, "offset"),
          query: op.query ?? null,
        })
      );
      return rows.map((row) => /** @type {SearchItem} */ ({ ...item(row), score: row.score ?? undefined }));
    }
    if ("value" in op) {
      const where = { namespace: labels(op.namespace), key: key(op.key) };
      if (op.value === null || op.value === undefined) this.call("delete", where);
      else this.call("put", { ...where, value: object(op.value, "a store value") });
      return undefined;
    }
    if ("key" in op) {
      const row = /** @type {ItemRow | null} */ (
        this.call("get", { namespace: labels(op.namespace), key: key(op.key) })
      );
      return row ? item(row) : null;
    }
    return /** @type {string[][]} */ (
      this.call("list_namespaces", {
        ...conditions(op),
        max_depth: op.maxDepth === undefined || op.maxDepth === null ? null : whole(op.maxDepth, "maxDepth"),
        limit: whole(op.limit ?? 100, "limit"),
        offset: whole(op.offset ?? 0, "offset"),
      })
    );
  }

  /**
   * @template {Operation[]} Op
   * @param {Op} operations
   * @returns {Promise<import("@langchain/langgraph-checkpoint").OperationResults<Op>>}
   */
  async batch(operations) {
    const results = operations.map((op) => this.one(op));
    return /** @type {import("@langchain/langgraph-checkpoint").OperationResults<Op>} */ (
      /** @type {unknown} */ (results)
    );
  }
}

/**
 * LangGraph.js wraps a graph's store in an AsyncBatchedStore whose loop polls its queue with a
 * timer for the whole run. That timer kept Node's event loop alive, so a program awaiting a
 * promise that can never settle hung until its timeout instead of failing at once (serve.mjs's
 * `beforeExit`). The same loop, with timers that do not hold the process; what holds it is a
 * store operation waiting in the queue or for the engine's answer.
 */
/**
 * @typedef {{ operation: unknown, resolve: (value: unknown) => void, reject: (err: unknown) => void }} Queued
 * @typedef {{ running: boolean, queue: Map<number, Queued>, store: { batch: (ops: unknown[]) => Promise<unknown[]> } }} BatchLoop
 */
const batchedPrototype =
  /** @type {{ processBatchQueue: (this: BatchLoop) => Promise<void>, enqueueOperation: (this: BatchLoop, operation: unknown) => Promise<unknown>, stop: (this: BatchLoop) => Promise<void> }} */ (
    /** @type {unknown} */ (AsyncBatchedStore.prototype)
  );
/**
 * @template T
 * @param {Promise<T>} promise
 * @returns {Promise<T>} the promise, with the process held until it settles
 */
const held = (promise) => {
  const hold = setInterval(() => undefined, 2 ** 30);
  promise.then(
    () => clearInterval(hold),
    () => clearInterval(hold),
  );
  return promise;
};
const { enqueueOperation, stop } = batchedPrototype;
/** @this {BatchLoop} @param {unknown} operation */
batchedPrototype.enqueueOperation = function heldEnqueueOperation(operation) {
  return held(enqueueOperation.call(this, operation));
};
/** @this {BatchLoop} */
batchedPrototype.stop = function heldStop() {
  return held(stop.call(this));
};
/** @this {BatchLoop} */
batchedPrototype.processBatchQueue = async function processBatchQueue() {
  while (this.running) {
    await new Promise((resolve) => setTimeout(resolve, 0).unref());
    if (this.queue.size === 0) continue;
    const batch = [...this.queue.values()];
    this.queue.clear();
    try {
      const results = await this.store.batch(batch.map(({ operation }) => operation));
      batch.forEach(({ resolve }, i) => resolve(results[i]));
    } catch (err) {
      batch.forEach(({ reject }) => reject(err));
    }
  }
};
