/** How the engine starts the JavaScript/TypeScript harness. */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { LaunchSpec } from "../../sandbox/process.ts";
import { snapshotNodeFlags, usableSnapshot } from "./snapshot/stamp.ts";

/** The runtime's folder: its harness and its own node_modules (LangGraph.js, the LLM clients, esbuild). */
export const JS_RUNTIME_DIR = dirname(fileURLToPath(import.meta.url));

/** True when `npm run setup` has installed the runtime's packages. */
export function jsRuntimeInstalled(): boolean {
  return existsSync(join(JS_RUNTIME_DIR, "node_modules", "@langchain", "langgraph", "package.json"));
}

let runtimePaths: string[] | null = null;

/**
 * What the sandbox must show this runtime: its folder (harness and packages), and the Node
 * installation's prefix when it is not under /usr (which every sandbox has), e.g. an nvm install.
 */
export function jsRuntimePaths(): string[] {
  if (runtimePaths) return runtimePaths;
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  runtimePaths = prefix === "/usr" || prefix.startsWith("/usr/") ? [JS_RUNTIME_DIR] : [JS_RUNTIME_DIR, prefix];
  return runtimePaths;
}

/**
 * The engine's own Node binary runs the harness: plain JavaScript, so none of the engine's
 * loaders (tsx) and none of its flags come along. `--max-old-space-size` bounds V8's heap (a V8
 * heap cannot be bounded with RLIMIT_AS, which V8's address-space reservations break); it is the
 * execution's memory size, so where the sandbox has a memory cgroup that limit trips first and is
 * reported as such. `--no-addons`: a program loads no native code.
 *
 * The harness starts from the runtime's startup snapshot when one was built for this node and this
 * heap size (harness/snapshot.mjs; ~0.1 s of CPU to `ready` instead of ~0.45 s), else from
 * harness/main.mjs. The blob is inside the runtime's folder, which the sandbox shows read-only.
 * `options.snapshot: false` always starts from main.mjs (the benchmark compares both).
 */
export function jsLaunchSpec(workDir: string, env: Record<string, string>, heapLimitMb: number, options: { snapshot?: boolean } = {}): LaunchSpec {
  const blob = options.snapshot === false ? null : usableSnapshot(heapLimitMb);
  return {
    command: process.execPath,
    args: [...snapshotNodeFlags(heapLimitMb), ...(blob ? ["--snapshot-blob", blob] : [join(JS_RUNTIME_DIR, "harness", "main.mjs")])],
    cwd: workDir,
    env,
    readOnlyPaths: jsRuntimePaths(),
  };
}
