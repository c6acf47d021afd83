// @ts-check
// Turns the program's source (TypeScript or JavaScript), with its other files, into one ES module
// the harness can import.
//
// esbuild strips the types (no type checking, like `tsc --noCheck`), bundles the program's files
// from memory (program-files.mjs), writes an inline source map whose sources are named `<workflow>`
// and each file's path, and — through the import policy below — rewrites every
// package import to the absolute URL of that package inside this runtime's node_modules. The
// program file then runs from any directory (the execution's tmp) and can reach exactly the
// runtime's packages and Node's built-ins: not the engine's dependencies, not the engine's files.
// Under a startup snapshot, a package the snapshot holds is imported from the snapshot's copy
// instead (bundled.mjs).
import { isBuiltin } from "node:module";

import { withBindings } from "./bindings.mjs";
import { bundledModuleUrl } from "./bundled.mjs";
import { moduleHost } from "./modules.mjs";
import { FILES_NAMESPACE, loadProgramFile, programFileName, resolveProgramFile } from "./program-files.mjs";

/** @typedef {import("./types.js").SourceLocation} SourceLocation */

export const PROGRAM_NAME = "<workflow>";
const RUNTIME_MODULES_URL = new URL("../node_modules/", import.meta.url).href;
const POLICY_PLUGIN = "graphbox-imports";
const INLINE_MAP = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\s*$/;

const ALLOWED =
  "a program may import its own `files`, the runtime's packages (@langchain/langgraph, @langchain/core, " +
  "@langchain/openai, @langchain/anthropic, langchain, @langchain/langgraph-supervisor, @langchain/langgraph-swarm, " +
  "zod, dotenv and what they bring) and Node's built-in modules";
const RELATIVE = /^\.{1,2}\//;

/**
 * What to do about a package the runtime lacks: the operator's setting that adds one.
 * @param {string} specifier
 */
export const packagesHint = (specifier) => {
  const name = /^(@[^/]+\/[^/]+|[^/]+)/.exec(specifier)?.[1] ?? specifier;
  return `the operator can add it with GRAPHBOX_JS_PACKAGES=${name}@<version> (then \`npm run setup\`)`;
};

/** The source does not parse. `location` is 1-based line and column in the program. */
export class ProgramSyntaxError extends Error {
  name = "SyntaxError";
  /**
   * @param {string} message
   * @param {SourceLocation | null} location
   */
  constructor(message, location) {
    super(message);
    this.location = location;
  }
}

/** The program imports something it may not (a file, the engine's packages, a package not installed). */
export class ProgramImportError extends Error {
  name = "ImportError";
  /**
   * @param {string} message
   * @param {SourceLocation | null} location
   */
  constructor(message, location) {
    super(message);
    this.location = location;
  }
}

/** @param {string} text */
function policyError(text) {
  return { errors: [{ text }] };
}

/**
 * A relative import of one of the program's files, or why not.
 * @param {Record<string, string>} files
 * @param {import("esbuild").OnResolveArgs} args
 */
function programFile(files, args) {
  const importer = args.namespace === FILES_NAMESPACE ? args.importer : "";
  const path = resolveProgramFile(files, importer, args.path);
  if (path !== null) return { path, namespace: FILES_NAMESPACE };
  const known = Object.keys(files);
  return policyError(
    known.length
      ? `cannot import "${args.path}": no such file among the program's \`files\` (${known.join(", ")})`
      : `cannot import "${args.path}": a program is a single module and cannot import files or URLs unless it sends them in \`files\`; ${ALLOWED}`,
  );
}

/**
 * Resolves each import as the runtime would, and refuses what is neither the program's nor the runtime's.
 * @param {Record<string, string>} files
 * @returns {import("esbuild").Plugin}
 */
const importPolicy = (files) => ({
  name: POLICY_PLUGIN,
  setup(build) {
    build.onLoad({ filter: /.*/, namespace: FILES_NAMESPACE }, (args) => loadProgramFile(files, args.path));
    build.onResolve({ filter: /.*/ }, async (args) => {
      const specifier = args.path;
      if (isBuiltin(specifier)) return { path: specifier, external: true };
      if (RELATIVE.test(specifier)) return programFile(files, args);
      if (/^(\/|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier)) {
        return policyError(
          `cannot import "${specifier}": a program is a single module and cannot import files or URLs; ${ALLOWED}`,
        );
      }
      let url;
      try {
        // Resolved from the harness folder, so the ESM entry of each package is chosen (the same
        // module instances the harness itself uses) and package.json "exports" are honoured.
        url = moduleHost().resolveModule(specifier);
      } catch {
        return policyError(
          `cannot import "${specifier}": no such package in this runtime; ${ALLOWED}; ${packagesHint(specifier)}`,
        );
      }
      if (!url.startsWith(RUNTIME_MODULES_URL)) {
        return policyError(`cannot import "${specifier}": it is not one of the runtime's packages; ${ALLOWED}`);
      }
      // require() and require.resolve() are left as they were: they fail at run time in an ES module.
      const required = args.kind === "require-call" || args.kind === "require-resolve";
      return { path: (!required && (await bundledModuleUrl(url))) || url, external: true };
    });
  },
});

/**
 * @param {import("esbuild").Message} message
 * @returns {SourceLocation | null}
 */
function locationOf(message) {
  const loc = message.location;
  return loc
    ? { file: programFileName(loc.file, PROGRAM_NAME), line: loc.line, column: loc.column + 1, lineText: loc.lineText }
    : null;
}

/**
 * @param {string} source
 * @param {import("esbuild").Loader} loader
 * @param {Record<string, string>} files
 */
async function build(source, loader, files) {
  return moduleHost().esbuild.build({
    stdin: { contents: source, loader, sourcefile: PROGRAM_NAME },
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    sourcesContent: false,
    // Keep the program as written: no dropping of unused code, no minifying, no tsconfig lookup.
    treeShaking: false,
    tsconfigRaw: { compilerOptions: {} },
    logLevel: "silent",
    plugins: [importPolicy(files)],
  });
}

/**
 * Builds the program with its top-level bindings exported (bindings.mjs); as written, should that not build.
 * @param {string} source
 * @param {import("esbuild").Loader} loader
 * @param {Record<string, string>} files
 */
async function buildEntry(source, loader, files) {
  const augmented = await withBindings(source, loader);
  if (augmented !== source) {
    try {
      return await build(augmented, loader, files);
    } catch {
      // The program's own error, if it has one, is reported from the source as written, below.
    }
  }
  return build(source, loader, files);
}

/** @type {(err: any) => boolean} An esbuild failure (its `errors`), or anything thrown. */
const isSyntaxFailure = (err) =>
  Array.isArray(err?.errors) && err.errors.length > 0 && err.errors[0].pluginName !== POLICY_PLUGIN;

/**
 * Transpiles the program. Returns `{code, sourceMap}` (sourceMap: the decoded v3 map, also inline
 * in `code`). Throws ProgramSyntaxError or ProgramImportError for the program's own mistakes.
 *
 * JavaScript that does not parse is tried once more as TypeScript (a superset): a request whose
 * language was detected from the source may call TypeScript "javascript" when it shows no type
 * annotation the detector knows (`Annotation<number>()`); the JavaScript error stands otherwise.
 * @param {string} source
 * @param {string} language
 * @param {Record<string, string>} [files] The program's other modules, by relative path.
 * @returns {Promise<{ code: string, sourceMap: import("node:module").SourceMapPayload | null }>}
 */
export async function transpile(source, language, files = {}) {
  let result;
  try {
    result = await buildEntry(source, language === "typescript" ? "ts" : "js", files);
  } catch (err) {
    if (language !== "typescript" && isSyntaxFailure(err)) {
      try {
        result = await buildEntry(source, "ts", files);
      } catch (tsErr) {
        // It parses as TypeScript but imports what it may not: that is the error to report.
        throw programError(isSyntaxFailure(tsErr) ? err : tsErr);
      }
    } else {
      throw programError(err);
    }
  }
  const code = /** @type {import("esbuild").OutputFile} */ (result.outputFiles[0]).text;
  const inline = INLINE_MAP.exec(code);
  const sourceMap = inline
    ? JSON.parse(Buffer.from(/** @type {string} */ (inline[1]), "base64").toString("utf8"))
    : null;
  if (sourceMap)
    sourceMap.sources = sourceMap.sources.map((/** @type {string} */ name) => programFileName(name, PROGRAM_NAME));
  return { code, sourceMap };
}

/** @param {any} err An esbuild failure (its `errors`), or anything thrown. */
function programError(err) {
  const first = err?.errors?.[0];
  if (!first) return err;
  const location = locationOf(first);
  if (first.pluginName === POLICY_PLUGIN) return new ProgramImportError(first.text, location);
  return new ProgramSyntaxError(first.text, location);
}

/**
 * Starts esbuild's helper process now (before the job), so the job does not wait for it. The
 * helper inherits the environment when it is spawned, synchronously, by the first call: one Go
 * thread of work is plenty for one small module, and keeps the helper's threads few under the
 * sandbox's process limit on a host with many cores.
 */
export async function warmTranspiler() {
  const previous = process.env.GOMAXPROCS;
  process.env.GOMAXPROCS = "1";
  let started;
  try {
    started = moduleHost().esbuild.transform("", { loader: "ts" });
  } finally {
    if (previous === undefined) delete process.env.GOMAXPROCS;
    else process.env.GOMAXPROCS = previous;
  }
  await started;
}

/** Stops esbuild's helper process, so nothing of the transpiler lingers beside the program. */
export function stopTranspiler() {
  moduleHost().esbuild.stop();
}
