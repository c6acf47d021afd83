// @ts-check
// The packages a startup snapshot holds, as a program imports them.
//
// Under a snapshot (snapshot.mjs) LangGraph and the LLM clients are already in memory; importing
// them from disk again would cost what the snapshot saves, and give the program other instances
// than the harness's. So the program's import of such a package names a small ES module instead,
// written on first use into this process's tmp, that re-exports the snapshot's copy name for name.
// Node links the program against it as it would against the package: a name the package lacks is
// the same SyntaxError, and `import * as` is a real module namespace. Each module sits at the
// package file's own path under a folder of its own, so messages can name it as the package file.
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

import { moduleHost } from "./modules.mjs";

const RUNTIME_DIR = dirname(dirname(fileURLToPath(import.meta.url)));

/** The global (a registered symbol) through which the modules reach the snapshot's packages: `(url) => namespace`. */
export const BUNDLED_PACKAGES = Symbol.for("graphbox.bundled-packages");

/**
 * The global (a registered symbol) the snapshot's packages call in place of a dynamic `import(x)`
 * of a computed name (../snapshot/build.ts rewrites those): code restored from a snapshot has no
 * import() of its own (see esm.cjs). Set by snapshot.mjs to importFromHeldCode.
 */
export const HELD_CODE_IMPORT = Symbol.for("graphbox.held-code-import");

/** The folder standing in for the runtime's folder, made on first use. @type {string | null} */
let standIn = null;

/** @returns {string} */
function standInDir() {
  if (!standIn) {
    standIn = mkdtempSync(join(tmpdir(), "graphbox-bundled-"));
    // The package files it mirrors are ES modules, whatever their extension.
    writeFileSync(join(standIn, "package.json"), '{"type": "module"}\n');
  }
  return standIn;
}

/**
 * @param {string} url
 * @param {object} namespace
 */
function reexportSource(url, namespace) {
  const names = Object.keys(namespace);
  const lines = [
    `const ns = globalThis[Symbol.for(${JSON.stringify(BUNDLED_PACKAGES.description)})](${JSON.stringify(url)});`,
  ];
  names.forEach((name, i) => lines.push(`const e${i} = ns[${JSON.stringify(name)}];`));
  lines.push(`export { ${names.map((name, i) => `e${i} as ${JSON.stringify(name)}`).join(", ")} };`);
  return `${lines.join("\n")}\n`;
}

/**
 * The URL of the module re-exporting the package file at `url`, or null when the snapshot does not
 * hold it (or there is no snapshot). A package held lazily is evaluated now, on first import.
 * @param {string} url
 * @returns {Promise<string | null>}
 */
export async function bundledModuleUrl(url) {
  const bundled = moduleHost().bundled;
  const held = bundled?.get(url);
  if (!bundled || !held) return null;
  let namespace;
  if (typeof held === "function") {
    namespace = await held();
    bundled.set(url, namespace);
  } else {
    namespace = held;
  }
  const file = join(standInDir(), relative(RUNTIME_DIR, fileURLToPath(url)));
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, reexportSource(url, namespace));
  }
  return pathToFileURL(file).href;
}

/**
 * A dynamic import made by a package the snapshot holds (langchain's initChatModel imports its
 * provider's package by name): a package the snapshot holds is its copy, as for the program;
 * anything else is imported from disk, as Node would.
 * @param {string} specifier
 */
export async function importFromHeldCode(specifier) {
  const url = moduleHost().resolveModule(specifier);
  return moduleHost().importModule((await bundledModuleUrl(url)) ?? url);
}

/**
 * `text` with the stand-in folder named as the runtime's folder, so that messages name the package's own file.
 * @param {string} text
 */
export function asRuntimePaths(text) {
  if (!standIn) return text;
  return text.split(pathToFileURL(standIn).href).join(pathToFileURL(RUNTIME_DIR).href).split(standIn).join(RUNTIME_DIR);
}
