/**
 * LangGraph's store routes (the Agent Server API's `/store/*`, as the SDKs' `client.store` calls
 * them): the API key's long-term memory items, the same ones its programs reach with
 * `get_store()` / `getStore()`. Another key's items are never seen.
 *
 * As LangGraph's JS server answers: a missing item is `200 null`; a namespace label holds no
 * period (the SDKs send `GET`'s namespace dotted); a search's `query` is answered as a
 * filter-only search (no embeddings index), and `index`, `ttl` and `refresh_ttl` are taken and
 * ignored, as LangGraph's in-memory store does without an index or TTL.
 */
import type { FastifyPluginAsyncJsonSchemaToTs } from "@fastify/type-provider-json-schema-to-ts";

import type { Config } from "../../config/index.ts";
import { GraphboxError } from "../../contract/errors.ts";
import { putItem, StoreRequestRefused } from "../../engine/store-requests.ts";
import { MAX_KEY_CHARS, MAX_LABEL_CHARS, MAX_NAMESPACE_LABELS } from "../../store/items.ts";
import type { ItemRecord, Store } from "../../store/types.ts";
import { COMMON_ERRORS, errorResponses } from "../openapi.ts";
import { ownerOf } from "../owner.ts";

const label = {
  type: "string",
  pattern: "^[^.]+$",
  maxLength: MAX_LABEL_CHARS,
  description: `A namespace label: 1 to ${MAX_LABEL_CHARS} characters, no period.`,
} as const;
const namespace = (minItems: number) =>
  ({ type: "array", items: label, minItems, maxItems: MAX_NAMESPACE_LABELS }) as const;
const key = { type: "string", maxLength: MAX_KEY_CHARS } as const;
const page = (fallback: number) =>
  ({
    limit: { type: "integer", minimum: 0, maximum: 1000, description: `Default ${fallback}.` },
    offset: { type: "integer", minimum: 0, maximum: 1_000_000_000 },
  }) as const;

// In the reference's order (LangGraph's JS server): value, key, namespace, times.
const itemFields = {
  value: { type: "object", additionalProperties: true },
  key: { type: "string" },
  namespace: { type: "array", items: { type: "string" } },
  created_at: { type: "string" },
  updated_at: { type: "string" },
} as const;
const itemSchema = {
  type: "object",
  additionalProperties: true,
  required: Object.keys(itemFields),
  properties: itemFields,
} as const;

const storeErrors = errorResponses([...COMMON_ERRORS, "GBX_ERR_INVALID_REQUEST"]);
const noContent = { 204: { description: "Done; no body.", type: "null" } } as const;

const schemas = {
  put: {
    tags: ["store"],
    summary: "Store an item (or replace the one under this namespace and key)",
    body: {
      type: "object",
      required: ["namespace", "key", "value"],
      additionalProperties: false,
      properties: {
        namespace: namespace(1),
        key,
        value: { type: "object", description: "The item's value: a JSON object." },
        index: {
          anyOf: [{ type: "boolean" }, { type: "array", items: { type: "string" } }, { type: "null" }],
          description: "Accepted and ignored: the store has no embeddings index.",
        },
        ttl: { type: ["number", "null"], description: "Accepted and ignored: items do not expire." },
      },
    },
    response: { ...noContent, ...errorResponses([...COMMON_ERRORS, "GBX_ERR_INVALID_REQUEST", "GBX_ERR_STORE_LIMIT"]) },
  },
  get: {
    tags: ["store"],
    summary: "An item, or null when there is none",
    // Query values are text (types are never coerced, see api.ts).
    querystring: {
      type: "object",
      required: ["key"],
      additionalProperties: false,
      properties: {
        namespace: {
          type: "string",
          pattern: `^[^.]{1,${MAX_LABEL_CHARS}}([.][^.]{1,${MAX_LABEL_CHARS}}){0,${MAX_NAMESPACE_LABELS - 1}}$`,
          description: "The namespace's labels joined with periods (`users.u1`), as the SDKs send it.",
        },
        key,
        refresh_ttl: { type: "string", description: "Accepted and ignored: items do not expire." },
      },
    },
    response: {
      200: {
        description: "{value, key, namespace, created_at, updated_at}, or null",
        ...itemSchema,
        type: ["object", "null"],
      },
      ...storeErrors,
    },
  },
  delete: {
    tags: ["store"],
    summary: "Delete an item (204 whether or not it existed)",
    body: {
      type: "object",
      required: ["key"],
      additionalProperties: false,
      properties: { namespace: namespace(0), key },
    },
    response: { ...noContent, ...storeErrors },
  },
  search: {
    tags: ["store"],
    summary: "Items under a namespace prefix, most recently updated first, filtered by value",
    body: {
      type: "object",
      required: ["namespace_prefix"],
      additionalProperties: false,
      properties: {
        namespace_prefix: namespace(0),
        filter: {
          type: ["object", "null"],
          description:
            "Keys the value must have with an equal (deep) value, or operators: `{score: {$gt: 3}}` ($eq, $ne, $gt, $gte, $lt, $lte, $in, $nin).",
        },
        ...page(10),
        query: {
          type: ["string", "null"],
          description: "Accepted; answered as a filter-only search (the store has no embeddings index).",
        },
        refresh_ttl: { type: ["boolean", "null"], description: "Accepted and ignored: items do not expire." },
      },
    },
    response: {
      200: {
        description: "{items: [{value, key, namespace, created_at, updated_at}]}",
        type: "object",
        required: ["items"],
        properties: { items: { type: "array", items: itemSchema } },
      },
      ...storeErrors,
    },
  },
  namespaces: {
    tags: ["store"],
    summary: "The namespaces that hold items, sorted; `*` in prefix or suffix matches any label",
    body: {
      type: "object",
      additionalProperties: false,
      properties: {
        prefix: { ...namespace(0), type: ["array", "null"] },
        suffix: { ...namespace(0), type: ["array", "null"] },
        max_depth: { type: ["integer", "null"], minimum: 1, maximum: MAX_NAMESPACE_LABELS },
        ...page(100),
      },
    },
    response: {
      200: {
        description: "{namespaces: [[label, ...], ...]}",
        type: "object",
        required: ["namespaces"],
        properties: { namespaces: { type: "array", items: { type: "array", items: { type: "string" } } } },
      },
      ...storeErrors,
    },
  },
} as const;

const toApi = (item: ItemRecord) => ({
  value: item.value,
  key: item.key,
  namespace: item.namespace,
  created_at: new Date(item.createdAt).toISOString(),
  updated_at: new Date(item.updatedAt).toISOString(),
});

export interface StoreRoutesOptions {
  store: Store;
  config: Readonly<Config>;
}

export const storeRoutes: FastifyPluginAsyncJsonSchemaToTs<{ Options: StoreRoutesOptions }> = async (
  app,
  { store, config },
) => {
  app.put("/store/items", { schema: schemas.put }, async (request, reply) => {
    const { namespace, key, value } = request.body;
    try {
      await putItem({ items: store.items, owner: ownerOf(request), item: { namespace, key, value }, config });
    } catch (err: unknown) {
      if (err instanceof StoreRequestRefused)
        throw new GraphboxError(err.overLimit ? "GBX_ERR_STORE_LIMIT" : "GBX_ERR_INVALID_REQUEST", err.message);
      throw err;
    }
    return reply.code(204).send(null);
  });

  app.get("/store/items", { schema: schemas.get }, async (request) => {
    const labels = request.query.namespace === undefined ? [] : request.query.namespace.split(".");
    const item = await store.items.get(ownerOf(request), labels, request.query.key);
    return item ? toApi(item) : null;
  });

  app.delete("/store/items", { schema: schemas.delete }, async (request, reply) => {
    await store.items.delete(ownerOf(request), [...(request.body.namespace ?? [])], request.body.key);
    return reply.code(204).send(null);
  });

  app.post("/store/items/search", { schema: schemas.search }, async (request) => {
    const { namespace_prefix, filter, limit, offset } = request.body;
    const items = await store.items.search(ownerOf(request), {
      namespacePrefix: [...namespace_prefix],
      ...(filter ? { filter } : {}),
      limit: limit ?? 10,
      offset: offset ?? 0,
    });
    return { items: items.map(toApi) };
  });

  app.post("/store/namespaces", { schema: schemas.namespaces }, async (request) => {
    const { prefix, suffix, max_depth, limit, offset } = request.body ?? {};
    const namespaces = await store.items.listNamespaces(ownerOf(request), {
      ...(prefix ? { prefix: [...prefix] } : {}),
      ...(suffix ? { suffix: [...suffix] } : {}),
      ...(max_depth !== undefined && max_depth !== null ? { maxDepth: max_depth } : {}),
      limit: limit ?? 100,
      offset: offset ?? 0,
    });
    return { namespaces };
  });
};
