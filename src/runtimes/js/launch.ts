/** How the engine starts the JavaScript/TypeScript harness. */
import { existsSync, realpathSync } from "node:fs";
import { dirname, join } from "node:path";

import { SOURCE_ROOT } from "../../contract/paths.ts";
import { SANDBOX_RUNTIME_ROOT, type RuntimeMount, type SandboxSpec } from "../../sandbox/bwrap.ts";
import { SNAPSHOT_DIR_NAME, snapshotNodeFlags, usableSnapshot } from "./snapshot/stamp.ts";

/** The runtime's folder: its harness, its own node_modules (LangGraph.js, the LLM clients, esbuild), its startup snapshot. */
export const JS_RUNTIME_DIR = join(SOURCE_ROOT, "runtimes/js");
/** Where that folder appears inside every sandbox (module paths, import.meta.url and stack traces name no host path). */
export const SANDBOX_JS_RUNTIME = `${SANDBOX_RUNTIME_ROOT}/js`;
/**
 * What of the folder every sandbox sees, each at its place under SANDBOX_JS_RUNTIME: the harness
 * and the packages it resolves from there (../node_modules); the snapshot folder too when the
 * harness starts from a blob (jsLaunchSpec). The engine-side code (this file, snapshot/) and the
 * package manifests stay outside.
 */
const MOUNTED = ["harness", "node_modules"];
const inRuntime = (name: string): RuntimeMount => ({
  source: join(JS_RUNTIME_DIR, name),
  target: `${SANDBOX_JS_RUNTIME}/${name}`,
});

/** True when `npm run setup` has installed the runtime's packages. */
export function jsRuntimeInstalled(): boolean {
  return existsSync(join(JS_RUNTIME_DIR, "node_modules", "@langchain", "langgraph", "package.json"));
}

let runtimeFolders: { mounts: RuntimeMount[]; readOnlyPaths: string[] } | null = null;

/**
 * What the sandbox must show this runtime: its harness and packages (MOUNTED) under
 * SANDBOX_JS_RUNTIME, and the Node installation's prefix, at its own place, when it is not under
 * /usr (which every sandbox has), e.g. an nvm install.
 */
export function jsRuntimeFolders(): { mounts: RuntimeMount[]; readOnlyPaths: string[] } {
  if (runtimeFolders) return runtimeFolders;
  const prefix = dirname(dirname(realpathSync(process.execPath)));
  runtimeFolders = {
    mounts: MOUNTED.map(inRuntime),
    readOnlyPaths: prefix === "/usr" || prefix.startsWith("/usr/") ? [] : [prefix],
  };
  return runtimeFolders;
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
 * harness/main.mjs. The blob is in the runtime's snapshot folder, then shown read-only too.
 * `options.snapshot: false` always starts from main.mjs (the benchmark compares both).
 */
export function jsLaunchSpec(
  workDir: string,
  env: Record<string, string>,
  heapLimitMb: number,
  options: { snapshot?: boolean } = {},
): SandboxSpec {
  const blob = options.snapshot === false ? null : usableSnapshot(heapLimitMb);
  const fromMain = [...snapshotNodeFlags(heapLimitMb), join(JS_RUNTIME_DIR, "harness", "main.mjs")];
  const folders = jsRuntimeFolders();
  return {
    command: process.execPath,
    args: blob ? [...snapshotNodeFlags(heapLimitMb), "--snapshot-blob", blob] : fromMain,
    // The blob holds the runtime's paths as the sandboxes see them (snapshot/layout.ts): without a sandbox, main.mjs.
    ...(blob ? { hostArgs: fromMain } : {}),
    cwd: workDir,
    env,
    mounts: blob ? [...folders.mounts, inRuntime(SNAPSHOT_DIR_NAME)] : folders.mounts,
    readOnlyPaths: folders.readOnlyPaths,
  };
}
