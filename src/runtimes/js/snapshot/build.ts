/**
 * Builds the JavaScript runtime's startup snapshot (../harness/snapshot.mjs says what it is for):
 *
 *   1. bundle: one CommonJS file (esbuild) holding the harness and every entry point of the
 *      packages a program most often imports, each listed under the file URL Node resolves it to;
 *   2. blob: `node --build-snapshot` evaluates that file and writes the heap;
 *   3. check: two processes started from the blob each run a probe program (check.ts);
 *   4. stamp: only then is the blob renamed into place and stamped as usable (stamp.ts).
 *
 * Run by scripts/js-snapshot.ts (from scripts/setup.sh); nothing here runs in the engine.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { SourceMapPayload } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

// The runtime's own esbuild (../node_modules), the one the harness transpiles with.
import * as esbuild from "esbuild";

import { SOURCE_ROOT } from "../../../contract/paths.ts";
import { checkSnapshot } from "./check.ts";
import { inLayout, inRuntimeLayout } from "./layout.ts";
import { harnessSpans } from "./spans.ts";
import {
  currentStamp,
  SNAPSHOT_ROOT,
  snapshotFiles,
  snapshotNodeFlags,
  snapshotProblem,
  type SnapshotFiles,
} from "./stamp.ts";

const RUNTIME_DIR = join(SOURCE_ROOT, "runtimes/js");
const HARNESS_DIR = join(RUNTIME_DIR, "harness");

/**
 * The packages the snapshot holds: "all" takes every entry point of the package's "exports" that
 * Node can import (wildcards left out), a list only those. A program importing anything else of the
 * runtime's packages still gets it, imported from disk when it runs.
 */
const HELD_PACKAGES: Record<string, "all" | string[]> = {
  "@langchain/langgraph": "all",
  "@langchain/langgraph-checkpoint": "all",
  "@langchain/core": "all",
  "@langchain/openai": "all",
  "@langchain/anthropic": "all",
  "@langchain/langgraph-supervisor": "all",
  "@langchain/langgraph-swarm": "all",
  langchain: "all",
  zod: "all",
  openai: ["."],
  "@anthropic-ai/sdk": ["."],
  langsmith: ["."],
};

/**
 * Held but not evaluated in the snapshot: openai's SDK captures fetch's `Response` class when
 * imported, and reading that global loads undici, whose HTTP parser starts compiling WebAssembly
 * at once; a snapshot cannot hold that (its builder has no WebAssembly). Their code is still in
 * the blob, evaluated when a program first imports one of them (~25 ms). A package importing one
 * of these statically must be listed too, or the build fails ("WebAssembly is not defined").
 */
const LAZY_PACKAGES = new Set(["openai", "@langchain/openai"]);

/**
 * The environment of `node --build-snapshot`: a module reading a variable at import keeps what it
 * saw. esbuild's API is one, on purpose: it finds its binary relative to its own file, which a
 * bundle does not have, or at ESBUILD_BINARY_PATH (the platform's package, as npm installed it).
 */
const ESBUILD_BINARY = join(
  RUNTIME_DIR,
  "node_modules",
  "@esbuild",
  `${process.platform}-${process.arch}`,
  "bin",
  "esbuild",
);
const BUILD_ENV = {
  PATH: "/usr/local/bin:/usr/bin:/bin",
  LANG: "C.UTF-8",
  // Where the sandboxes see it (layout.ts): the blob keeps this path.
  ESBUILD_BINARY_PATH: inLayout(ESBUILD_BINARY),
};

/**
 * What the builder prints about built-in modules Node has not vetted for snapshots (async_hooks,
 * worker_threads): the probe (check.ts) and the test suite check what depends on them.
 */
const KNOWN_BUILD_NOISE =
  /not yet fully verified whether built-in module|It may still work in some cases|certain run-time states may be out-of-sync|To request support for the module|--trace-warnings|Deleting Error\.stackTraceLimit/;

interface ModuleHost {
  resolveModule(specifier: string): string;
}

interface HeldEntry {
  specifier: string;
  /** The file URL Node's loader resolves `specifier` to from the harness folder, here. */
  hostUrl: string;
  /** The same file as the sandboxes see it (layout.ts): what the blob holds. */
  url: string;
  lazy: boolean;
}

export interface BuildReport {
  heapMb: number;
  packages: number;
  bundleBytes: number;
  blobBytes: number;
  buildMs: number;
}

function exportedSpecifiers(name: string, only: "all" | string[]): string[] {
  const manifest = JSON.parse(readFileSync(join(RUNTIME_DIR, "node_modules", name, "package.json"), "utf8")) as {
    exports?: unknown;
  };
  const exportsField = manifest.exports;
  const subpaths =
    only !== "all"
      ? only
      : typeof exportsField === "object" && exportsField !== null
        ? Object.keys(exportsField).filter((key) => key.startsWith("."))
        : ["."];
  return subpaths
    .filter((subpath) => !subpath.includes("*") && !subpath.endsWith(".json"))
    .map((subpath) => (subpath === "." ? name : name + subpath.slice(1)));
}

/**
 * True for a file Node loads as an ES module: only those are held, since bundled.mjs stands in for
 * them with ES modules (a CommonJS entry point would need another namespace shape).
 */
function isEsModule(url: string): boolean {
  if (!url.startsWith("file:")) return false;
  const file = fileURLToPath(url);
  if (file.endsWith(".mjs")) return true;
  if (!file.endsWith(".js")) return false;
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest))
      return (JSON.parse(readFileSync(manifest, "utf8")) as { type?: string }).type === "module";
  }
  return false;
}

/** Each held entry point once, by the URL Node resolves it to (two subpaths may name one file). */
function heldEntries(host: ModuleHost): HeldEntry[] {
  const byUrl = new Map<string, HeldEntry>();
  for (const [name, only] of Object.entries(HELD_PACKAGES)) {
    for (const specifier of exportedSpecifiers(name, only)) {
      let url: string;
      try {
        url = host.resolveModule(specifier);
      } catch {
        continue; // an entry point with no condition Node's ES loader takes (types or require only)
      }
      if (!isEsModule(url) || byUrl.has(url)) continue;
      byUrl.set(url, {
        specifier,
        hostUrl: url,
        url: pathToFileURL(inLayout(fileURLToPath(url))).href,
        lazy: LAZY_PACKAGES.has(name),
      });
    }
  }
  return [...byUrl.values()];
}

/**
 * The bundle's entry: the harness, then every held package, handed to startFromSnapshot() with
 * their names' resolutions and the harness's spans, which exist only once the bundle does: read
 * from `spansFile` when the snapshot is built.
 */
function entrySource(entries: HeldEntry[], spansFile: string): string {
  const lines = ['import { readFileSync } from "node:fs";', 'import { startFromSnapshot } from "./snapshot.mjs";'];
  const pairs: string[] = [];
  entries.forEach((entry, i) => {
    const specifier = JSON.stringify(entry.specifier);
    if (entry.lazy) pairs.push(`[${JSON.stringify(entry.url)}, () => import(${specifier})]`);
    else {
      lines.push(`import * as held${i} from ${specifier};`);
      pairs.push(`[${JSON.stringify(entry.url)}, held${i}]`);
    }
  });
  const resolved = entries.map((entry) => [entry.specifier, entry.url]);
  lines.push(
    `startFromSnapshot(new Map([\n  ${pairs.join(",\n  ")},\n]), new Map(${JSON.stringify(resolved)}), JSON.parse(readFileSync(${JSON.stringify(inLayout(spansFile))}, "utf8")));`,
  );
  return lines.join("\n");
}

/** Each harness file's `import.meta.url`, written in as that file's own URL: a CommonJS bundle has no import.meta. */
const harnessFileUrls: esbuild.Plugin = {
  name: "graphbox-harness-urls",
  setup(build) {
    build.onLoad({ filter: /\.mjs$/ }, (args) => {
      if (dirname(args.path) !== HARNESS_DIR) return undefined;
      const source = readFileSync(args.path, "utf8");
      return {
        contents: source.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(inLayout(args.path)).href)),
        loader: "js",
      };
    });
  },
};

/** `import(` of anything but a string literal: a name computed at run time, which esbuild leaves to Node. */
const COMPUTED_IMPORT = /(?<![\w$.])import\s*\((?!\s*["'`)])/g;

/**
 * A package's dynamic import of a computed name (langchain's initChatModel imports its provider's
 * package so) calls the harness instead (bundled.mjs importFromHeldCode, under the global `symbol`):
 * code restored from the snapshot has no import() of its own (harness/esm.cjs). An import of a
 * literal name is bundled by esbuild and needs nothing.
 */
function heldCodeImports(symbol: string): esbuild.Plugin {
  const call = `globalThis[Symbol.for(${JSON.stringify(symbol)})](`;
  const modules = join(RUNTIME_DIR, "node_modules") + "/";
  return {
    name: "graphbox-held-code-imports",
    setup(build) {
      build.onLoad({ filter: /\.m?js$/ }, (args) => {
        if (!args.path.startsWith(modules)) return undefined;
        const source = readFileSync(args.path, "utf8");
        if (!source.match(COMPUTED_IMPORT)) return undefined;
        return { contents: source.replace(COMPUTED_IMPORT, call), loader: "js" };
      });
    },
  };
}

async function bundle(entries: HeldEntry[], files: SnapshotFiles, heldCodeImport: string): Promise<number> {
  const result = await esbuild.build({
    stdin: {
      contents: entrySource(entries, files.harnessSpans),
      resolveDir: HARNESS_DIR,
      sourcefile: "snapshot-entry.mjs",
      loader: "js",
    },
    absWorkingDir: RUNTIME_DIR,
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    // Node's own choice of files: its ES conditions, and "main" for packages without "exports"
    // (esbuild would otherwise also take "module" fields and the "module" condition).
    conditions: ["node"],
    mainFields: ["main"],
    outfile: files.bundle,
    // Less code for the snapshot to hold and restore (~12 ms less per start); names stay as written.
    minifyWhitespace: true,
    write: false,
    sourcemap: "external",
    sourcesContent: false,
    metafile: true,
    logLevel: "silent",
    plugins: [harnessFileUrls, heldCodeImports(heldCodeImport)],
  });
  // esbuild's own API would locate its binary with require.resolve(); with ESBUILD_BINARY_PATH set it does not.
  const warnings = result.warnings.filter(
    (w) => !(w.id === "require-resolve-not-external" && w.location?.file.includes("node_modules/esbuild/")),
  );
  if (warnings.length)
    throw new Error(`esbuild warned: ${warnings.map((w) => `${w.text} (${w.location?.file ?? "?"})`).join("; ")}`);
  // The held namespaces must be the modules Node itself would load for those names, or a program
  // would get other instances than the harness.
  const entryInputs = Object.entries(result.metafile.inputs).find(
    ([path]) => path.includes("snapshot-entry.mjs") || path === "<stdin>",
  );
  const resolvedBy = new Map(
    (entryInputs?.[1].imports ?? []).map((i) => [i.original ?? "", resolve(RUNTIME_DIR, i.path)]),
  );
  for (const entry of entries) {
    const path = resolvedBy.get(entry.specifier);
    if (path !== fileURLToPath(entry.hostUrl))
      throw new Error(
        `esbuild resolved ${entry.specifier} to ${String(path)}, Node to ${fileURLToPath(entry.hostUrl)}`,
      );
  }
  for (const file of ["host.mjs", "main.mjs", "esm.cjs"]) {
    if (Object.keys(result.metafile.inputs).some((input) => resolve(RUNTIME_DIR, input) === join(HARNESS_DIR, file)))
      throw new Error(`harness/${file} must stay out of the bundle`);
  }
  const code = result.outputFiles.find((file) => file.path === files.bundle)?.text;
  const map = result.outputFiles.find((file) => file.path === `${files.bundle}.map`)?.text;
  if (code === undefined || map === undefined) throw new Error("esbuild wrote no bundle or no source map");
  writeFileSync(files.bundle, code);
  const spans = harnessSpans(JSON.parse(map) as SourceMapPayload, files.dir, HARNESS_DIR);
  if (spans.length === 0) throw new Error("the source map shows none of the harness's code in the bundle");
  // The bundle's name in stack frames is the path it was built from, in the sandboxes' layout.
  writeFileSync(files.harnessSpans, `${JSON.stringify({ file: inLayout(files.bundle), harnessSpans: spans })}\n`);
  return Buffer.byteLength(code);
}

function buildBlob(bundleFile: string, blob: string, heapMb: number): void {
  const dir = dirname(bundleFile);
  const run = inRuntimeLayout(
    process.execPath,
    [...snapshotNodeFlags(heapMb), "--snapshot-blob", blob, "--build-snapshot", bundleFile],
    { writable: dir, cwd: dir },
  );
  const built = spawnSync(run.command, run.args, {
    cwd: "/",
    env: BUILD_ENV,
    encoding: "utf8",
    timeout: 300_000,
  });
  const noise = `${built.stdout}\n${built.stderr}`
    .split("\n")
    .filter((line) => line.trim() && !KNOWN_BUILD_NOISE.test(line));
  if (built.status !== 0)
    throw new Error(
      `node --build-snapshot failed (${built.error?.message ?? `exit ${String(built.status ?? built.signal)}`}): ${noise.join("\n").slice(0, 4000)}`,
    );
}

/** Builds, checks and stamps the blob for `heapMb`; throws (leaving no usable stamp) when any step fails. */
export async function buildSnapshot(heapMb: number): Promise<BuildReport> {
  const started = performance.now();
  const files = snapshotFiles(heapMb);
  mkdirSync(files.dir, { recursive: true });
  writeFileSync(
    join(SNAPSHOT_ROOT, ".gitignore"),
    "# Built on each machine by scripts/js-snapshot.ts; never committed.\n*\n",
  );
  // Unstamped from here until the new blob has passed its check.
  rmSync(files.stamp, { force: true });
  const stamp = currentStamp(heapMb);

  if (!existsSync(ESBUILD_BINARY)) throw new Error(`esbuild's binary is not at ${ESBUILD_BINARY}`);
  const host = (await import(pathToFileURL(join(HARNESS_DIR, "host.mjs")).href)) as ModuleHost;
  const { HELD_CODE_IMPORT } = (await import(pathToFileURL(join(HARNESS_DIR, "bundled.mjs")).href)) as {
    HELD_CODE_IMPORT: symbol;
  };
  const entries = heldEntries(host);
  const bundleBytes = await bundle(entries, files, HELD_CODE_IMPORT.description ?? "");
  esbuild.stop();

  const fresh = `${files.blob}.${process.pid}.tmp`;
  try {
    buildBlob(files.bundle, fresh, heapMb);
    await checkSnapshot(fresh, heapMb);
    // A rename: a harness starting now opens either the old blob or the new one, whole.
    renameSync(fresh, files.blob);
  } finally {
    rmSync(fresh, { force: true });
  }
  writeFileSync(files.stamp, `${JSON.stringify(stamp, null, 2)}\n`);
  const problem = snapshotProblem(heapMb);
  if (problem) throw new Error(`the runtime changed while the snapshot was built (${problem}); build again`);
  const blobBytes = statSync(files.blob).size;
  return { heapMb, packages: entries.length, bundleBytes, blobBytes, buildMs: performance.now() - started };
}
