/** The runtimes the engine can start, by program language. */
import { join } from "node:path";

import type { Config } from "../config/index.ts";
import type { Language, RuntimeName } from "../contract/types.ts";
import type { LaunchSpec } from "../sandbox/process.ts";
import type { WatchedPaths } from "./files.ts";
import { JS_RUNTIME_DIR, jsLaunchSpec, jsRuntimeInstalled } from "./js/launch.ts";
import { snapshotFiles } from "./js/snapshot/stamp.ts";
import { preimportEnv, pythonLaunchSpec, pythonRuntimeFiles } from "./python/launch.ts";

export interface Runtime {
  /** Name reported in metadata and stored with threads. */
  name: RuntimeName;
  launch(config: Readonly<Config>, workDir: string, env: Record<string, string>): LaunchSpec;
  /** The files whose change makes a warm sandbox of this runtime stale (its harness, its installed packages). */
  files(config: Readonly<Config>): WatchedPaths;
}

const python: Runtime = {
  name: "python",
  launch: (config, workDir, env) =>
    pythonLaunchSpec(config.pythonPath, workDir, { ...env, ...preimportEnv(config.packages.pythonPreimport) }),
  files: (config) => pythonRuntimeFiles(config.pythonPath),
};

/** V8's heap is bounded at the sandbox's memory (see jsLaunchSpec), in MiB as --max-old-space-size counts it. */
const heapMb = (config: Readonly<Config>): number => config.sandbox.memoryBytes / (1024 * 1024);

/** JavaScript and TypeScript share one harness: TypeScript is transpiled inside it. */
const js: Runtime = {
  name: "js",
  launch: (config, workDir, env) => jsLaunchSpec(workDir, env, heapMb(config)),
  files: (config) => jsRuntimeFiles(heapMb(config)),
};

/**
 * What a warm Node sandbox holds in memory: the harness, the installed packages (npm rewrites its
 * lock on every install), and the startup snapshot it started from (its stamp is rewritten with it).
 */
function jsRuntimeFiles(heapMb: number): WatchedPaths {
  return {
    trees: [join(JS_RUNTIME_DIR, "harness")],
    entries: [join(JS_RUNTIME_DIR, "node_modules", ".package-lock.json"), snapshotFiles(heapMb).stamp],
  };
}

/** Every runtime this engine can start (JavaScript's only once its packages are installed). */
export function installedRuntimes(): Runtime[] {
  return jsRuntimeInstalled() ? [js, python] : [python];
}

/** The runtime for a language, or null when this engine cannot run it (its packages are not installed). */
export function runtimeFor(language: Language): Runtime | null {
  if (language === "python") return python;
  return jsRuntimeInstalled() ? js : null;
}
