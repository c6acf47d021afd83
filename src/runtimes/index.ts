/** The runtimes the engine can start, by program language. */
import type { Config } from "../config/index.ts";
import type { Language } from "../engine/types.ts";
import type { LaunchSpec } from "../sandbox/process.ts";
import { jsLaunchSpec, jsRuntimeInstalled } from "./js/launch.ts";
import { pythonLaunchSpec } from "./python/launch.ts";

export interface Runtime {
  /** Name reported in metadata and stored with threads. */
  name: "python" | "js";
  launch(config: Readonly<Config>, workDir: string, env: Record<string, string>): LaunchSpec;
}

const python: Runtime = {
  name: "python",
  launch: (config, workDir, env) => pythonLaunchSpec(config.pythonPath, workDir, env),
};

/** JavaScript and TypeScript share one harness: TypeScript is transpiled inside it. */
const js: Runtime = {
  name: "js",
  launch: (config, workDir, env) => jsLaunchSpec(workDir, env, config.sandbox.memoryMb),
};

/** The runtime for a language, or null when this engine cannot run it (its packages are not installed). */
export function runtimeFor(language: Language): Runtime | null {
  if (language === "python") return python;
  return jsRuntimeInstalled() ? js : null;
}
