/** The runtimes the engine can start, by program language. */
import type { Config } from "../config/index.ts";
import type { Language } from "../engine/types.ts";
import type { LaunchSpec } from "../sandbox/process.ts";
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

/** The runtime for a language, or null when this engine has none for it yet. */
export function runtimeFor(language: Language): Runtime | null {
  return language === "python" ? python : null;
}
