// @ts-check
// Entry point from a V8 startup snapshot: the process starts with LangGraph.js, the LLM clients and
// this harness already evaluated: ~0.07 s of CPU to `ready` instead of ~0.45 s of importing.
//
// ../snapshot/build.ts bundles this file, the rest of the harness and the packages into one
// CommonJS file, evaluates it with `node --build-snapshot` and keeps the heap as a blob; the
// engine starts `node <flags> --snapshot-blob <blob>` (see ../launch.ts), which runs the function
// registered below instead of a script. The blob is built on this machine by this node binary,
// and is rebuilt when a runtime file changes.
//
// What a snapshot cannot hold is set up after it starts: Node's ES module loader (the program is
// still an ES module, imported from the execution's tmp; see esm.cjs and host.mjs), esbuild's
// helper process (warmTranspiler), and packages that capture fetch's classes at import time (see
// LAZY_PACKAGES in ../snapshot/build.ts).
import { createRequire } from "node:module";
import { startupSnapshot } from "node:v8";

// Evaluated when the snapshot is built, with ESBUILD_BINARY_PATH set (../snapshot/build.ts): the
// API keeps the path of the binary it starts, which, bundled, it could not find on its own.
import * as esbuild from "esbuild";

import { BUNDLED_PACKAGES, HELD_CODE_IMPORT, importFromHeldCode } from "./bundled.mjs";
import { setBundledHarness } from "./errors.mjs";
import { useModuleHost } from "./modules.mjs";
import { refuseUnservedProviders } from "./providers.mjs";
import * as runner from "./runner.mjs";
import { serve } from "./serve.mjs";

/**
 * Registers the harness as what the restored process runs.
 * - `packages` maps the file URL Node resolves each held package to (what transpile.mjs's import
 *   policy sees) to its namespace, or to a function that evaluates it (the lazy ones);
 * - `resolved` maps the held packages' names (`@langchain/core/messages`) to those URLs, as Node
 *   resolved them when the snapshot was built: the same answer, without reading package.json files;
 * - `bundle` is the bundle's path and the spans of the harness's own code in it, so that tracebacks
 *   leave out the harness's frames as they do without a snapshot.
 * @param {Map<string, Record<string, unknown> | (() => Promise<Record<string, unknown>>)>} packages
 * @param {Map<string, string>} resolved
 * @param {{ file: string, harnessSpans: [number, number, number, number][] }} bundle
 */
export function startFromSnapshot(packages, resolved, bundle) {
  setBundledHarness(bundle.file, bundle.harnessSpans);
  const universal = packages.get(resolved.get("langchain/chat_models/universal") ?? "");
  if (typeof universal !== "object")
    throw new Error("the snapshot must hold langchain/chat_models/universal, evaluated");
  refuseUnservedProviders(universal);
  startupSnapshot.setDeserializeMainFunction(() =>
    serve(async () => {
      const importFromDisk = createRequire(import.meta.url)("./esm.cjs");
      const host = /** @type {typeof import("./host.mjs")} */ (await importFromDisk("./host.mjs"));
      // The lazy ones are evaluated when a program first imports them (bundled.mjs), not before `ready`.
      const bundled = new Map(packages);
      // The program's imports of these packages read them here (bundled.mjs).
      Object.defineProperty(globalThis, BUNDLED_PACKAGES, { value: (/** @type {string} */ url) => bundled.get(url) });
      Object.defineProperty(globalThis, HELD_CODE_IMPORT, { value: importFromHeldCode });
      /** @param {string} specifier */
      const resolveModule = (specifier) => resolved.get(specifier) ?? host.resolveModule(specifier);
      useModuleHost({ importModule: host.importModule, resolveModule, esbuild, bundled });
      return runner;
    }),
  );
}
