/** How the engine starts the Python harness. */
import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

import { SOURCE_ROOT } from "../../contract/paths.ts";
import type { WatchedPaths } from "../files.ts";
import { SANDBOX_RUNTIME_ROOT, type RuntimeMount, type SandboxSpec } from "../../sandbox/bwrap.ts";

/** The harness (run.py and graphbox_harness/): the only folder of this runtime mounted into sandboxes. */
export const PYTHON_HARNESS_DIR = join(SOURCE_ROOT, "runtimes/python/harness");
/** Where the harness and the virtual environment appear inside every sandbox. */
export const SANDBOX_PYTHON_HARNESS = `${SANDBOX_RUNTIME_ROOT}/python/harness`;
export const SANDBOX_PYTHON_VENV = `${SANDBOX_RUNTIME_ROOT}/python/venv`;

/** The variable that tells the harness which of the operator's modules to import before its job (packages.py reads it). */
const PREIMPORT_VARIABLE = "GRAPHBOX_PYTHON_PREIMPORT";

/** The harness's environment entry for GRAPHBOX_PYTHON_PREIMPORT's modules; none when there are none. */
export function preimportEnv(modules: readonly string[]): Record<string, string> {
  return modules.length > 0 ? { [PREIMPORT_VARIABLE]: modules.join(",") } : {};
}

/**
 * `-I` keeps the host's PYTHON* variables, user site-packages and the working directory off
 * the import path; `-u` makes the program's prints arrive as they happen; `-B` writes no .pyc.
 */
export function pythonLaunchSpec(pythonPath: string, workDir: string, env: Record<string, string>): SandboxSpec {
  return {
    command: pythonPath,
    args: ["-I", "-u", "-B", join(PYTHON_HARNESS_DIR, "run.py")],
    cwd: workDir,
    env,
    ...pythonRuntimeFolders(pythonPath),
  };
}

const runtimeFolders = new Map<string, { mounts: RuntimeMount[]; readOnlyPaths: string[] }>();

/**
 * What the sandbox must show this Python: the harness and the virtual environment, each at its
 * fixed place (SANDBOX_PYTHON_HARNESS, SANDBOX_PYTHON_VENV: sys.path, tracebacks and errors name
 * no host path), and the base interpreter's prefix, at its own place, when it is not under /usr
 * (which every sandbox has). Debian's python3 needs nothing more; a pyenv one would need its
 * prefix under a home directory.
 */
export function pythonRuntimeFolders(pythonPath: string): { mounts: RuntimeMount[]; readOnlyPaths: string[] } {
  let folders = runtimeFolders.get(pythonPath);
  if (folders) return folders;
  folders = { mounts: [{ source: PYTHON_HARNESS_DIR, target: SANDBOX_PYTHON_HARNESS }], readOnlyPaths: [] };
  const venv = dirname(dirname(pythonPath));
  const venvConfig = join(venv, "pyvenv.cfg");
  // pyvenv.cfg's `home` is the base interpreter's bin directory; its parent is the prefix with the standard library.
  const home = existsSync(venvConfig)
    ? /^home\s*=\s*(.+)$/m.exec(readFileSync(venvConfig, "utf8"))?.[1]?.trim()
    : undefined;
  const prefix = home ? dirname(home) : existsSync(pythonPath) ? dirname(dirname(realpathSync(pythonPath))) : "/usr";
  if (existsSync(venvConfig)) folders.mounts.push({ source: venv, target: SANDBOX_PYTHON_VENV });
  if (prefix !== "/usr" && !prefix.startsWith("/usr/")) folders.readOnlyPaths.push(prefix);
  runtimeFolders.set(pythonPath, folders);
  return folders;
}

/**
 * What a warm Python sandbox holds in memory: the harness, and the virtual environment's installed
 * packages (its site-packages directory changes whenever pip adds or removes one).
 */
export function pythonRuntimeFiles(pythonPath: string): WatchedPaths {
  const venvLib = join(dirname(dirname(pythonPath)), "lib");
  const sitePackages = existsSync(venvLib)
    ? readdirSync(venvLib)
        .filter((name) => name.startsWith("python"))
        .map((name) => join(venvLib, name, "site-packages"))
    : [];
  return { trees: [PYTHON_HARNESS_DIR], entries: sitePackages };
}
