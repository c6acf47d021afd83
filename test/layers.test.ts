/**
 * The folder tree is the architecture, and this keeps it true: every import in src/ goes to the
 * same folder or down to a lower layer, and no chain of imports comes back to where it started.
 * STRUCTURE.md draws the same layers.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

import ts from "typescript";

import { PROJECT_ROOT } from "../src/config/index.ts";

const SRC = join(PROJECT_ROOT, "src");

/**
 * Each layer may import the layers below it (a lower rank), never one above or beside it. Folders
 * on one rank know nothing of each other. The top-level files compose everything.
 */
export const LAYERS: ReadonlyArray<{ layer: string; rank: number }> = [
  { layer: "contract", rank: 0 },
  { layer: "config", rank: 1 },
  { layer: "observability", rank: 2 },
  { layer: "store", rank: 2 },
  { layer: "sandbox", rank: 3 },
  { layer: "gateway", rank: 3 },
  { layer: "egress", rank: 3 },
  { layer: "runtimes", rank: 4 },
  { layer: "supply", rank: 5 },
  { layer: "engine", rank: 6 },
  { layer: "agent", rank: 7 },
  { layer: "http", rank: 8 },
  { layer: "(root)", rank: 9 },
];

/** Folders mounted into sandboxes: they run next to untrusted code and import only each other. */
const HARNESSES = ["runtimes/js/harness", "runtimes/python/harness"];

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(path));
    else if (/\.(ts|mts|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(path);
  }
  return files;
}

/** The files under src/ that `file` imports (type-only imports too: they tie the layers as tightly). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
  return importedFiles
    .map((i) => i.fileName)
    .filter((name) => name.startsWith("."))
    .map((name) => resolve(dirname(file), name));
}

function layerOf(file: string): string {
  const path = relative(SRC, file);
  return path.includes("/") ? path.split("/")[0]! : "(root)";
}

const rankOf = (layer: string): number => {
  const found = LAYERS.find((l) => l.layer === layer);
  assert.ok(
    found,
    `src/${layer}/ is not in the layer table of test/layers.test.ts (and STRUCTURE.md): say where it belongs`,
  );
  return found.rank;
};

const graph = new Map(sourceFiles(SRC).map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(PROJECT_ROOT, file);

test("every folder of src/ has its place in the layers", () => {
  for (const file of graph.keys()) rankOf(layerOf(file));
});

test("imports only look down: to the same folder or to a lower layer", () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = layerOf(file);
    for (const target of imports) {
      if (!target.startsWith(SRC + "/")) {
        upward.push(`${name(file)} imports ${name(target)}, outside src/`);
        continue;
      }
      const to = layerOf(target);
      if (from !== to && rankOf(to) >= rankOf(from))
        upward.push(`${name(file)} (${from}) imports ${name(target)} (${to})`);
    }
  }
  assert.deepEqual(upward, []);
});

test("the harnesses import nothing of the engine", () => {
  const escapes: string[] = [];
  for (const [file, imports] of graph) {
    const harness = HARNESSES.find((h) => file.startsWith(join(SRC, h) + "/"));
    if (!harness) continue;
    for (const target of imports)
      if (!target.startsWith(join(SRC, harness) + "/")) escapes.push(`${name(file)} imports ${name(target)}`);
  }
  assert.deepEqual(escapes, []);
});

test("no circle of imports", () => {
  // Depth-first search; a back edge to a file still on the stack closes a circle.
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    state.set(file, "open");
    for (const target of graph.get(file) ?? []) {
      if (state.get(target) === "open")
        circles.push([...path.slice(path.indexOf(target)), target].map(name).join(" → "));
      else if (!state.has(target) && graph.has(target)) visit(target, [...path, target]);
    }
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(circles, []);
});

test("the scan finds the imports it judges", () => {
  // The rules above pass only if the scan finds imports at all: a known downward import must be seen.
  const engine = join(SRC, "engine/engine.ts");
  assert.ok(
    graph.get(engine)?.some((target) => layerOf(target) === "contract"),
    "engine/engine.ts's imports of src/contract/ were not found",
  );
});
