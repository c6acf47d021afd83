// @ts-check
// The program's other modules (the request's `files`, by relative path): how a relative import
// finds one, the way Node and TypeScript do. esbuild bundles them from memory with the entry, so
// nothing is written but the one module the harness runs, and they are transpiled and
// source-mapped like it; tracebacks name each by its path.

/** esbuild's namespace for the program's files; stripped from the names tracebacks show. */
export const FILES_NAMESPACE = "graphbox-files";

const EXTENSIONS = [".ts", ".mts", ".js", ".mjs", ".json"];
/** TypeScript's ES module imports name the output: `./state.js` is `state.ts` in the source. */
const SOURCE_OF_OUTPUT = { ".js": ".ts", ".mjs": ".mts" };

/** @type {Record<string, import("esbuild").Loader>} */
const LOADERS = { ".ts": "ts", ".mts": "ts", ".js": "js", ".mjs": "js", ".json": "json" };

/**
 * `a/b/../c` → `a/c`; null when it climbs above the program's folder.
 * @param {string} path
 */
function normalize(path) {
  /** @type {string[]} */
  const out = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== "..") out.push(part);
    else if (out.pop() === undefined) return null;
  }
  return out.join("/");
}

/**
 * The file a relative import names, or null.
 * @param {Record<string, string>} files
 * @param {string} importer The importing file's path ("" for the entry).
 * @param {string} specifier `./state.js`, `../tools/search`...
 */
export function resolveProgramFile(files, importer, specifier) {
  const folder = importer.includes("/") ? importer.slice(0, importer.lastIndexOf("/") + 1) : "";
  const path = normalize(folder + specifier);
  if (path === null) return null;
  const extension = EXTENSIONS.find((ext) => path.endsWith(ext));
  const candidates = [path];
  const source = extension && /** @type {Record<string, string>} */ (SOURCE_OF_OUTPUT)[extension];
  if (extension && source) candidates.push(path.slice(0, -extension.length) + source);
  candidates.push(...EXTENSIONS.map((ext) => path + ext), ...EXTENSIONS.map((ext) => `${path}/index${ext}`));
  return candidates.find((candidate) => Object.hasOwn(files, candidate)) ?? null;
}

/**
 * What esbuild loads for one of the files.
 * @param {Record<string, string>} files
 * @param {string} path
 * @returns {import("esbuild").OnLoadResult}
 */
export function loadProgramFile(files, path) {
  const extension = EXTENSIONS.find((ext) => path.endsWith(ext)) ?? ".js";
  return { contents: files[path] ?? "", loader: LOADERS[extension] ?? "js" };
}

/**
 * A file's name in tracebacks and error locations: its path, or `entryName` for the entry.
 * @param {string | undefined} name esbuild's (`graphbox-files:state.ts`, `<workflow>`)
 * @param {string} entryName
 */
export function programFileName(name, entryName) {
  if (!name) return entryName;
  return name.startsWith(`${FILES_NAMESPACE}:`) ? name.slice(FILES_NAMESPACE.length + 1) : name;
}
