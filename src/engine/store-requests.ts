/**
 * Answers a harness's `store` requests (LangGraph's BaseStore: get, put, delete, search,
 * list_namespaces) from the long-term memory store, always in the execution owner's store:
 * nothing a request holds names an owner, so a program reaches its own API key's items only.
 *
 * What the harnesses send (src/runtimes/python/harness/graphbox_harness/store.py and
 * src/runtimes/js/harness/store.mjs), every field present:
 * - get, delete: `{namespace: string[], key: string}`
 * - put: `{namespace, key, value: object}` (a put of None/null is sent as delete)
 * - search: `{namespace_prefix: string[], filter: object | null, limit: int, offset: int, query: string | null}`
 * - list_namespaces: `{prefix: string[] | null, suffix: string[] | null, max_depth: int | null, limit: int, offset: int}`
 *
 * The answer is `ok: true` with the value (an item `{namespace, key, value, created_at,
 * updated_at}` with ISO times, a list of them with `score: null`, a list of namespaces, or null),
 * or `ok: false` with a message the program sees as an exception: a limit (GRAPHBOX_STORE_*), a
 * namespace or key out of bounds. A request of another shape than the above was not written by a
 * harness: the run ends as `sandbox_error`, as a forged checkpoint does.
 *
 * Semantic search is not available (the engine's store has no embeddings index): a search with
 * `query` answers as a filter-only search, as LangGraph's InMemoryStore without an index does.
 */
import type { Config } from "../config/index.ts";
import type { ErrorCode } from "../contract/errors.ts";
import type { StoreRequest } from "../contract/protocol/messages.ts";
import { StoreError } from "../store/errors.ts";
import { itemJson } from "../store/items.ts";
import type { ItemLimits, ItemRecord, ItemStore } from "../store/types.ts";

/** Bytes of items one search answer carries (always at least one): well inside the harnesses' 64 MiB frames. */
export const MAX_SEARCH_ANSWER_BYTES = 16 * 1024 * 1024;

export type StoreAnswer =
  | { ok: true; value: unknown }
  /** `fault`: the run ends with it, besides the program seeing `error`. */
  | { ok: false; error: string; fault?: { code: ErrorCode; error: string } };

/** A request over a limit or out of bounds: answered `ok: false`, the run goes on. */
export class StoreRequestRefused extends Error {
  override name = "StoreRequestRefused";
  constructor(
    message: string,
    /** Over GRAPHBOX_STORE_MAX_ITEM_BYTES or GRAPHBOX_STORE_MAX_ITEMS (rather than malformed). */
    readonly overLimit = false,
  ) {
    super(message);
  }
}

/** A request no harness sends. */
class StoreRequestForged extends Error {
  override name = "StoreRequestForged";
}

export function itemLimits(config: Readonly<Config>): Required<ItemLimits> {
  return { maxItemBytes: config.storeMaxItemBytes, maxItems: config.storeMaxItems };
}

/**
 * Puts an item within the configured limits: throws StoreRequestRefused naming the option a limit
 * comes from, or the store's bounds on namespaces and keys. The HTTP routes put through here too.
 */
export async function putItem(options: {
  items: ItemStore;
  owner: string;
  item: { namespace: string[]; key: string; value: Record<string, unknown> };
  config: Readonly<Config>;
}): Promise<void> {
  const limits = itemLimits(options.config);
  try {
    itemJson(options.item.value, limits);
  } catch (err: unknown) {
    throw refusal(err, "GRAPHBOX_STORE_MAX_ITEM_BYTES");
  }
  try {
    await options.items.put(options.owner, options.item, limits);
  } catch (err: unknown) {
    throw refusal(err, "GRAPHBOX_STORE_MAX_ITEMS");
  }
}

/** The store's refusal of an argument or a quota as StoreRequestRefused; anything else as it is. */
function refusal(err: unknown, option?: string): unknown {
  if (!(err instanceof StoreError)) return err;
  if (err.code === "GBX_STORE_QUOTA_EXCEEDED")
    return new StoreRequestRefused(option ? `${err.message} (${option})` : err.message, true);
  if (err.code === "GBX_STORE_INVALID_ARGUMENT") return new StoreRequestRefused(err.message);
  return err;
}

// Shapes: a field of the wrong type was not written by a harness.
type Args = Record<string, unknown>;

function only(args: Args, op: string, fields: readonly string[]): void {
  for (const field of Object.keys(args))
    if (!fields.includes(field)) throw new StoreRequestForged(`store ${op} has an unknown field`);
  for (const field of fields)
    if (!Object.hasOwn(args, field)) throw new StoreRequestForged(`store ${op} lacks ${field}`);
}
function labels(value: unknown, field: string): string[] {
  if (!Array.isArray(value) || !value.every((label) => typeof label === "string"))
    throw new StoreRequestForged(`store request's ${field} is not a list of strings`);
  return value as string[];
}
const optionalLabels = (value: unknown, field: string): string[] | undefined =>
  value === null ? undefined : labels(value, field);
function text(value: unknown, field: string): string {
  if (typeof value !== "string") throw new StoreRequestForged(`store request's ${field} is not a string`);
  return value;
}
function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new StoreRequestForged(`store request's ${field} is not an object`);
  return value as Record<string, unknown>;
}
function integer(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value))
    throw new StoreRequestForged(`store request's ${field} is not a whole number`);
  return value;
}

function toWire(item: ItemRecord): Record<string, unknown> {
  return {
    namespace: item.namespace,
    key: item.key,
    value: item.value,
    created_at: new Date(item.createdAt).toISOString(),
    updated_at: new Date(item.updatedAt).toISOString(),
  };
}

/** The first items whose values fit MAX_SEARCH_ANSWER_BYTES (at least one): a program pages with offset for more. */
function withinAnswerBytes(items: ItemRecord[]): ItemRecord[] {
  let bytes = 0;
  for (const [i, item] of items.entries()) {
    bytes += Buffer.byteLength(JSON.stringify(item.value));
    if (bytes > MAX_SEARCH_ANSWER_BYTES && i > 0) return items.slice(0, i);
  }
  return items;
}

async function perform(
  context: { items: ItemStore; owner: string; config: Readonly<Config> },
  request: StoreRequest,
): Promise<unknown> {
  const { items, owner } = context;
  const args = request.args;
  switch (request.op) {
    case "get": {
      only(args, "get", ["namespace", "key"]);
      const item = await items.get(owner, labels(args["namespace"], "namespace"), text(args["key"], "key"));
      return item ? toWire(item) : null;
    }
    case "put": {
      only(args, "put", ["namespace", "key", "value"]);
      const item = {
        namespace: labels(args["namespace"], "namespace"),
        key: text(args["key"], "key"),
        value: object(args["value"], "value"),
      };
      await putItem({ items, owner, item, config: context.config });
      return null;
    }
    case "delete":
      only(args, "delete", ["namespace", "key"]);
      await items.delete(owner, labels(args["namespace"], "namespace"), text(args["key"], "key"));
      return null;
    case "search": {
      only(args, "search", ["namespace_prefix", "filter", "limit", "offset", "query"]);
      if (args["query"] !== null) text(args["query"], "query"); // answered as a filter-only search (see above)
      const found = await items.search(owner, {
        namespacePrefix: labels(args["namespace_prefix"], "namespace_prefix"),
        ...(args["filter"] !== null ? { filter: object(args["filter"], "filter") } : {}),
        limit: integer(args["limit"], "limit"),
        offset: integer(args["offset"], "offset"),
      });
      return withinAnswerBytes(found).map((item) => ({ ...toWire(item), score: null }));
    }
    case "list_namespaces": {
      only(args, "list_namespaces", ["prefix", "suffix", "max_depth", "limit", "offset"]);
      const prefix = optionalLabels(args["prefix"], "prefix");
      const suffix = optionalLabels(args["suffix"], "suffix");
      return items.listNamespaces(owner, {
        ...(prefix ? { prefix } : {}),
        ...(suffix ? { suffix } : {}),
        ...(args["max_depth"] !== null ? { maxDepth: integer(args["max_depth"], "max_depth") } : {}),
        limit: integer(args["limit"], "limit"),
        offset: integer(args["offset"], "offset"),
      });
    }
  }
}

/** The answer to one store request, and whether the run must end. Never throws. */
export async function answerStoreRequest(
  context: { items: ItemStore; owner: string; config: Readonly<Config> },
  request: StoreRequest,
): Promise<StoreAnswer> {
  try {
    return { ok: true, value: await perform(context, request) };
  } catch (err: unknown) {
    const refused = refusal(err);
    const message = err instanceof Error ? err.message : String(err);
    if (refused instanceof StoreRequestRefused) return { ok: false, error: `store ${request.op}: ${refused.message}` };
    if (err instanceof StoreRequestForged) {
      return {
        ok: false,
        error: message,
        fault: { code: "GBX_ERR_SANDBOX", error: `the program sent a forged store request: ${message}` },
      };
    }
    return {
      ok: false,
      error: "the engine could not answer the store request",
      fault: { code: "GBX_ERR_INTERNAL", error: `the engine could not answer a store request: ${message}` },
    };
  }
}
