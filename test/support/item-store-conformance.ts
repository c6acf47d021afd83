/**
 * The conformance cases of `Store.items` (LangGraph's long-term memory store), run by
 * store-conformance.ts inside its suite: every backend passes them.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import type { ItemStore, Store } from "../../src/store/index.ts";

const TIMEOUT = { timeout: 20_000 };

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

const owners = (prefix: string): { owner: string; other: string } => ({
  owner: `${prefix}-owner-${randomUUID()}`,
  other: `${prefix}-other-${randomUUID()}`,
});

/** Keys of a search's items, in the order found. */
async function keys(items: ItemStore, owner: string, search: Parameters<ItemStore["search"]>[1]): Promise<string[]> {
  return (await items.search(owner, search)).map((item) => item.key);
}

export function itemStoreCases(current: () => Store, open: () => Promise<Store>): void {
  test("put, get, update and delete an item", TIMEOUT, async () => {
    const { items } = current();
    const { owner } = owners("items-crud");
    assert.equal(await items.get(owner, ["memories", "u1"], "k"), null);
    await items.put(owner, { namespace: ["memories", "u1"], key: "k", value: { text: "likes tea", n: 1 } });
    const first = await items.get(owner, ["memories", "u1"], "k");
    assert.ok(first);
    assert.deepEqual(first.namespace, ["memories", "u1"]);
    assert.equal(first.key, "k");
    assert.deepEqual(first.value, { text: "likes tea", n: 1 });
    assert.ok(first.createdAt > 0 && first.updatedAt === first.createdAt);

    await sleep(5);
    await items.put(owner, { namespace: ["memories", "u1"], key: "k", value: { text: "likes coffee" } });
    const second = await items.get(owner, ["memories", "u1"], "k");
    assert.deepEqual(second?.value, { text: "likes coffee" }, "a put replaces the whole value");
    assert.equal(second?.createdAt, first.createdAt, "an update keeps the creation time");
    assert.ok((second?.updatedAt ?? 0) > first.updatedAt);

    assert.equal(await items.get(owner, ["memories"], "k"), null, "a namespace is matched whole");
    assert.equal(await items.get(owner, ["memories", "u1", "x"], "k"), null);
    assert.equal(await items.delete(owner, ["memories", "u1"], "k"), true);
    assert.equal(await items.delete(owner, ["memories", "u1"], "k"), false);
    assert.equal(await items.get(owner, ["memories", "u1"], "k"), null);
  });

  test(
    "an item is invisible to another owner, who may keep its own under the same namespace and key",
    TIMEOUT,
    async () => {
      const { items } = current();
      const { owner, other } = owners("items-owners");
      await items.put(owner, { namespace: ["prefs"], key: "theme", value: { theme: "dark" } });
      assert.equal(await items.get(other, ["prefs"], "theme"), null);
      assert.deepEqual(await items.search(other, { namespacePrefix: [] }), []);
      assert.deepEqual(await items.search(other, { namespacePrefix: ["prefs"] }), []);
      assert.deepEqual(await items.listNamespaces(other), []);
      assert.equal(await items.delete(other, ["prefs"], "theme"), false);
      assert.deepEqual((await items.get(owner, ["prefs"], "theme"))?.value, { theme: "dark" }, "left alone");

      await items.put(other, { namespace: ["prefs"], key: "theme", value: { theme: "light" } });
      assert.deepEqual((await items.get(owner, ["prefs"], "theme"))?.value, { theme: "dark" });
      assert.deepEqual((await items.get(other, ["prefs"], "theme"))?.value, { theme: "light" });
      assert.deepEqual(await keys(items, owner, { namespacePrefix: [] }), ["theme"]);
      assert.deepEqual(await items.listNamespaces(owner), [["prefs"]]);
    },
  );

  test("a namespace prefix matches on label boundaries, whatever the labels hold", TIMEOUT, async () => {
    const { items } = current();
    const { owner } = owners("items-prefix");
    const namespaces = [
      ["a"],
      ["a", "b"],
      ["a", "b.c"],
      ["ab"],
      ["a.b"],
      ["a", "b", "c"],
      ['a",', "b"],
      ['a"]'],
      ["a-"],
      ["a,"],
      ["x", "y"],
      ['x","y'],
      ["ü", "ñ"],
    ];
    for (const [i, namespace] of namespaces.entries())
      await items.put(owner, { namespace, key: `k${i}`, value: { i } });
    const texts = (list: string[][]): string[] => list.map((ns) => JSON.stringify(ns)).sort();
    const found = async (prefix: string[]): Promise<string[]> =>
      texts((await items.search(owner, { namespacePrefix: prefix, limit: 100 })).map((item) => item.namespace));
    const expect = async (prefix: string[], namespaces: string[][], message?: string): Promise<void> =>
      assert.deepEqual(await found(prefix), texts(namespaces), message);
    await expect(["a"], [["a"], ["a", "b"], ["a", "b", "c"], ["a", "b.c"]]);
    await expect(
      ["a", "b"],
      [
        ["a", "b"],
        ["a", "b", "c"],
      ],
    );
    await expect(["a.b"], [["a.b"]], "a dot is part of a label, not a separator");
    await expect(["a", "b.c"], [["a", "b.c"]]);
    await expect(['a",'], [['a",', "b"]]);
    await expect(["x", "y"], [["x", "y"]]);
    await expect(['x","y'], [['x","y']]);
    await expect(["ü"], [["ü", "ñ"]]);
    await expect(["a", "b", "c", "d"], []);
    assert.equal((await found([])).length, namespaces.length);
    assert.deepEqual((await items.get(owner, ["a.b"], "k4"))?.value, { i: 4 });
    assert.equal(await items.get(owner, ["a", "b"], "k4"), null);
  });

  test("search: newest first, a deep-equality filter, limit and offset", TIMEOUT, async () => {
    const { items } = current();
    const { owner } = owners("items-search");
    const put = async (key: string, value: Record<string, unknown>, namespace = ["docs"]): Promise<void> => {
      await items.put(owner, { namespace, key, value });
    };
    await put("d1", { kind: "note", tags: ["a", "b"], meta: { lang: "en", v: 1 }, score: 3 });
    await put("d2", { kind: "note", tags: ["b", "a"], meta: { v: 1, lang: "en" }, score: 7 });
    await put("d3", { kind: "todo", meta: { lang: "fr" }, score: 5, owner_name: "z" });
    await put("d4", { kind: "note", nested: { deep: [1, { x: null }] } }, ["docs", "old"]);
    await put("e1", { kind: "note" }, ["elsewhere"]);
    await put("d5", { kind: "note", score: "12" }); // written last, so first

    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"] }), ["d5", "d4", "d3", "d2", "d1"]);
    await sleep(2);
    await put("d1", { kind: "note", tags: ["a", "b"], meta: { lang: "en", v: 1 }, score: 3 }); // updated: newest
    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"] }), ["d1", "d5", "d4", "d3", "d2"]);
    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"], limit: 2 }), ["d1", "d5"]);
    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"], limit: 2, offset: 2 }), ["d4", "d3"]);
    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"], offset: 10 }), []);
    assert.deepEqual(await keys(items, owner, { namespacePrefix: ["docs"], limit: 0 }), []);
    assert.equal((await items.search(owner, { namespacePrefix: [] })).length, 6);

    const filtered = (filter: Record<string, unknown>, extra: { limit?: number; offset?: number } = {}) =>
      keys(items, owner, { namespacePrefix: ["docs"], filter, ...extra });
    assert.deepEqual(await filtered({ kind: "note" }), ["d1", "d5", "d4", "d2"]);
    assert.deepEqual(await filtered({ kind: "note" }, { limit: 2, offset: 1 }), ["d5", "d4"], "paged after filtering");
    assert.deepEqual(
      await filtered({ meta: { lang: "en", v: 1 } }),
      ["d1", "d2"],
      "objects equal whatever the key order",
    );
    assert.deepEqual(await filtered({ meta: { lang: "en" } }), [], "an object matches whole, not as a subset");
    assert.deepEqual(await filtered({ tags: ["a", "b"] }), ["d1"], "arrays equal in order");
    assert.deepEqual(await filtered({ nested: { deep: [1, { x: null }] } }), ["d4"]);
    assert.deepEqual(await filtered({ kind: "note", score: 3 }), ["d1"], "every key must match");
    assert.deepEqual(await filtered({ score: "3" }), [], "types are compared too");
    assert.deepEqual(await filtered({ missing: null, kind: "todo" }), ["d3"], "an absent key equals null");
    assert.deepEqual(await filtered({ score: { $gt: 4 } }), ["d3", "d2"], "$gt compares numbers with numbers");
    assert.deepEqual(await filtered({ score: { $gte: 3, $lt: 7 } }), ["d1", "d3"]);
    assert.deepEqual(await filtered({ kind: { $ne: "note" } }), ["d3"]);
    assert.deepEqual(await filtered({ kind: { $in: ["todo", "x"] } }), ["d3"]);
    assert.deepEqual(await filtered({ score: { $nin: [3, 7, 5] } }), ["d5", "d4"]);
    assert.deepEqual(await filtered({ meta: { $eq: { v: 1, lang: "en" } } }), ["d1", "d2"]);
    assert.deepEqual(await filtered({ meta: { lang: "fr", $gt: 1 } }), [], "not all operators: a literal object");
  });

  test(
    "listNamespaces: sorted, by prefix and suffix with wildcards, truncated to a depth, paged",
    TIMEOUT,
    async () => {
      const { items } = current();
      const { owner } = owners("items-namespaces");
      const namespaces = [
        ["users", "u1", "prefs"],
        ["users", "u1", "memories"],
        ["users", "u2", "memories"],
        ["users"],
        ["teams", "t1", "memories"],
        ["users.u3", "memories"],
      ];
      for (const namespace of namespaces) await items.put(owner, { namespace, key: "k", value: {} });
      await items.put(owner, { namespace: ["users", "u1", "prefs"], key: "k2", value: {} });

      assert.deepEqual(await items.listNamespaces(owner), [
        ["teams", "t1", "memories"],
        ["users"],
        ["users", "u1", "memories"],
        ["users", "u1", "prefs"],
        ["users", "u2", "memories"],
        ["users.u3", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["users"] }), [
        ["users"],
        ["users", "u1", "memories"],
        ["users", "u1", "prefs"],
        ["users", "u2", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { suffix: ["memories"] }), [
        ["teams", "t1", "memories"],
        ["users", "u1", "memories"],
        ["users", "u2", "memories"],
        ["users.u3", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["users"], suffix: ["memories"] }), [
        ["users", "u1", "memories"],
        ["users", "u2", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["*", "u1"] }), [
        ["users", "u1", "memories"],
        ["users", "u1", "prefs"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["users", "*", "memories"] }), [
        ["users", "u1", "memories"],
        ["users", "u2", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { suffix: ["u1", "*"] }), [
        ["users", "u1", "memories"],
        ["users", "u1", "prefs"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["users"], maxDepth: 2 }), [
        ["users"],
        ["users", "u1"],
        ["users", "u2"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { maxDepth: 1 }), [["teams"], ["users"], ["users.u3"]]);
      assert.deepEqual(await items.listNamespaces(owner, { limit: 2, offset: 1 }), [
        ["users"],
        ["users", "u1", "memories"],
      ]);
      assert.deepEqual(await items.listNamespaces(owner, { prefix: ["nobody"] }), []);
      assert.deepEqual(await items.listNamespaces(owner, { suffix: ["a", "b", "c", "d"] }), []);

      await items.delete(owner, ["users"], "k");
      assert.deepEqual(await items.listNamespaces(owner, { maxDepth: 1 }), [["teams"], ["users"], ["users.u3"]]);
      assert.deepEqual(
        await items.listNamespaces(owner, { prefix: ["users"] }),
        [
          ["users", "u1", "memories"],
          ["users", "u1", "prefs"],
          ["users", "u2", "memories"],
        ],
        "a namespace is listed while it holds items",
      );
    },
  );

  test("an item over maxItemBytes is refused and nothing is written", TIMEOUT, async () => {
    const { items } = current();
    const { owner } = owners("items-bytes");
    const value = { text: "x".repeat(100) }; // {"text":"xxx..."}: 111 bytes of JSON
    await rejectsWithCode(
      items.put(owner, { namespace: ["n"], key: "big", value }, { maxItemBytes: 110 }),
      "GBX_STORE_QUOTA_EXCEEDED",
    );
    assert.equal(await items.get(owner, ["n"], "big"), null);
    await items.put(owner, { namespace: ["n"], key: "big", value }, { maxItemBytes: 111 });
    await rejectsWithCode(
      items.put(owner, { namespace: ["n"], key: "big", value: { text: "é".repeat(60) } }, { maxItemBytes: 111 }),
      "GBX_STORE_QUOTA_EXCEEDED",
    );
    assert.deepEqual((await items.get(owner, ["n"], "big"))?.value, value, "a refused update leaves the item");
  });

  test("an owner's item count stops at maxItems; updates and other owners go on", TIMEOUT, async () => {
    const { items } = current();
    const { owner, other } = owners("items-count");
    const limits = { maxItems: 3 };
    for (const key of ["a", "b", "c"]) await items.put(owner, { namespace: ["n", key], key, value: {} }, limits);
    await rejectsWithCode(
      items.put(owner, { namespace: ["n"], key: "d", value: {} }, limits),
      "GBX_STORE_QUOTA_EXCEEDED",
    );
    assert.equal(await items.get(owner, ["n"], "d"), null);
    await items.put(owner, { namespace: ["n", "a"], key: "a", value: { updated: true } }, limits);
    assert.deepEqual((await items.get(owner, ["n", "a"], "a"))?.value, { updated: true });
    await items.put(other, { namespace: ["n"], key: "d", value: {} }, limits);
    assert.equal(await items.delete(owner, ["n", "b"], "b"), true);
    await items.put(owner, { namespace: ["n"], key: "d", value: {} }, limits);
    assert.equal((await items.search(owner, { namespacePrefix: ["n"] })).length, 3);
  });

  test("malformed arguments are refused", TIMEOUT, async () => {
    const { items } = current();
    const { owner } = owners("items-invalid");
    const refused = (promise: Promise<unknown>) => rejectsWithCode(promise, "GBX_STORE_INVALID_ARGUMENT");
    await refused(items.put(owner, { namespace: [], key: "k", value: {} }));
    await refused(items.put(owner, { namespace: ["a", ""], key: "k", value: {} }));
    await refused(items.put(owner, { namespace: ["a", 1 as unknown as string], key: "k", value: {} }));
    await refused(items.put(owner, { namespace: Array.from({ length: 17 }, () => "l"), key: "k", value: {} }));
    await refused(items.put(owner, { namespace: ["l".repeat(257)], key: "k", value: {} }));
    await refused(items.put(owner, { namespace: ["a"], key: "k".repeat(1025), value: {} }));
    await refused(items.put(owner, { namespace: ["a"], key: "k", value: [] as unknown as Record<string, unknown> }));
    await refused(items.search(owner, { namespacePrefix: ["a"], limit: -1 }));
    await refused(items.search(owner, { namespacePrefix: ["a"], offset: 1.5 }));
    await refused(items.listNamespaces(owner, { maxDepth: 0 }));
    assert.deepEqual(await items.search(owner, { namespacePrefix: [] }), [], "nothing was written");
  });

  test("items outlive the store instance that wrote them", TIMEOUT, async () => {
    const { owner } = owners("items-durable");
    await current().items.put(owner, { namespace: ["kept"], key: "k", value: { v: [1, 2] } });
    const reopened = await open();
    assert.deepEqual((await reopened.items.get(owner, ["kept"], "k"))?.value, { v: [1, 2] });
    assert.deepEqual(await reopened.items.listNamespaces(owner), [["kept"]]);
  });
}
