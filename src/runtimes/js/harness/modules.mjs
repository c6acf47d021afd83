// @ts-check
// How the harness loads, resolves and transpiles (Node's module loader, see host.mjs, and esbuild):
// set once at start, before the job, by main.mjs or snapshot.mjs, and read by the modules that do.

/**
 * @typedef {object} ModuleHost
 * @property {(specifier: string) => Promise<Record<string, unknown>>} importModule Node's import(), from the harness folder.
 * @property {(specifier: string) => string} resolveModule import.meta.resolve(), from the harness folder.
 * @property {typeof import("esbuild")} esbuild
 * @property {Map<string, object | (() => Promise<object>)>} [bundled] In a snapshot: the packages it
 *   holds, by the file URL Node resolves them to: namespaces, or functions evaluating those held lazily.
 */

/** @type {ModuleHost | null} */
let current = null;

/** @param {ModuleHost} host */
export function useModuleHost(host) {
  current = host;
}

/** @returns {ModuleHost} */
export function moduleHost() {
  if (!current) throw new Error("the harness's module host is not set (main.mjs or snapshot.mjs sets it at start)");
  return current;
}
