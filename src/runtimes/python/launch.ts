/** How the engine starts the Python harness. */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { LaunchSpec } from "../../sandbox/process.ts";

export const PYTHON_HARNESS_DIR = dirname(fileURLToPath(import.meta.url));

/**
 * `-I` keeps the host's PYTHON* variables, user site-packages and the working directory off
 * the import path; `-u` makes the program's prints arrive as they happen; `-B` writes no .pyc.
 */
export function pythonLaunchSpec(pythonPath: string, workDir: string, env: Record<string, string>): LaunchSpec {
  return {
    command: pythonPath,
    args: ["-I", "-u", "-B", join(PYTHON_HARNESS_DIR, "run.py")],
    cwd: workDir,
    env,
  };
}
