/**
 * Where the engine's own files are on disk. The engine runs from its TypeScript sources (tests,
 * through tsx) or from their compiled copy in dist/ (`npm start`); either way the files it reads
 * or mounts beside its code (the harnesses, the sandbox's /etc, the seccomp exporter, the JS
 * runtime's packages and snapshot) stay in src/, so they are found from the project's root,
 * never from the location of the module asking.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest folder above this module that holds a package.json: the same from src/contract and dist/contract. */
function findProjectRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir)
      throw new Error(`no package.json above ${start}: the engine's files are not where it expects them`);
  }
}

/** The project's root directory (where package.json lives). */
export const PROJECT_ROOT = findProjectRoot(dirname(fileURLToPath(import.meta.url)));

/** The engine's sources, and the non-TypeScript files that live among them. */
export const SOURCE_ROOT = join(PROJECT_ROOT, "src");
