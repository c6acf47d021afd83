// @ts-check
// Node's ES module loader, as the harness reaches it: to import the program and the package files
// it loads on demand (tiktoken ranks), and to resolve a package name exactly as the runtime's own
// imports would.
//
// This file is always loaded from disk, never bundled: main.mjs imports it, and the startup
// snapshot (snapshot.mjs) imports it once it has started, since code restored from a snapshot
// has no module loader behind its own import(). Specifiers resolve from here, the harness folder.
/** @param {string} specifier @returns {Promise<Record<string, unknown>>} */
export const importModule = (specifier) => import(specifier);

/** @param {string} specifier */
export const resolveModule = (specifier) => import.meta.resolve(specifier);
