// @ts-check
// The entry module's top-level bindings, exported or not, so the harness can find a graph a program
// defined without `export` (as LangGraph's own docs snippets do).
//
// An ES module's namespace holds only its exports. The entry's source gets one more export appended,
// a function returning [name, value] for each top-level binding: appended, so no line of the program
// moves; a function, so it reads the bindings after the module has run. The names come from
// esbuild's own JavaScript for the entry (types stripped, one top-level statement per line from
// column 0). A name read from text that is not a declaration (a line of a template literal) does
// no harm: `typeof` of a name nothing declares is "undefined"; and should the appended line not
// build, transpile.mjs builds the program as written.
import { moduleHost } from "./modules.mjs";

/** The appended export. */
export const BINDINGS_EXPORT = "__graphbox_bindings__";

const DECLARATION =
  /^(?:export\s+)?(?:default\s+)?(?:async\s+)?(?:function\s*\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/;
const IMPORT = /^import\s+(?:([A-Za-z_$][\w$]*)\s*,?\s*)?(?:\{([^}]*)\})?\s*from\s/;
// A CommonJS-looking program is wrapped by esbuild as such; an export would make it a broken ES module.
const COMMONJS = /\bmodule\.exports\b|\bexports\.[\w$]+\s*=/;

/**
 * Top-level names in esbuild's output for one module.
 * @param {string} code
 */
function topLevelNames(code) {
  /** @type {Set<string>} */
  const names = new Set();
  for (const line of code.split("\n")) {
    const declared = DECLARATION.exec(line);
    if (declared) names.add(/** @type {string} */ (declared[1]));
    const imported = IMPORT.exec(line);
    if (!imported) continue;
    if (imported[1]) names.add(imported[1]);
    for (const item of (imported[2] ?? "").split(",")) {
      const local = item
        .trim()
        .split(/\s+as\s+/)
        .pop();
      if (local && /^[A-Za-z_$][\w$]*$/.test(local)) names.add(local);
    }
  }
  return [...names];
}

/**
 * The entry's source with the bindings' export appended; the source as it was when it does not
 * transpile on its own (its error is then reported at the places the program wrote).
 * @param {string} source
 * @param {import("esbuild").Loader} loader
 */
export async function withBindings(source, loader) {
  if (COMMONJS.test(source)) return source;
  let code;
  try {
    code = (await moduleHost().esbuild.transform(source, { loader, format: "esm", logLevel: "silent" })).code;
  } catch {
    return source;
  }
  const pairs = topLevelNames(code).map(
    (name) => `[${JSON.stringify(name)}, typeof ${name} === "undefined" ? undefined : ${name}]`,
  );
  return `${source}\n;export function ${BINDINGS_EXPORT}() { return [${pairs.join(", ")}]; }\n`;
}

/**
 * The [name, value] pairs of the module's top-level bindings (empty when it has none to tell).
 * @param {Record<string, unknown>} namespace
 * @returns {[string, unknown][]}
 */
export function readBindings(namespace) {
  const read = namespace[BINDINGS_EXPORT];
  return typeof read === "function" ? read() : [];
}
