// @ts-check
// The startup snapshot's way into Node's ES module loader.
//
// Functions restored from a snapshot were compiled before the loader existed, so their import()
// fails (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING). A CommonJS file required from disk after
// start-up is compiled by Node's own loader, so its import() works; snapshot.mjs uses it once, to
// load host.mjs.
"use strict";

/** @param {string} specifier */
module.exports = (specifier) => import(specifier);
