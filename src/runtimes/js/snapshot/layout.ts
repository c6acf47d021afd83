/**
 * The startup snapshot holds the runtime's paths as they were when it was built: the held
 * packages' module URLs, the harness's own `import.meta.url`s, the bundle's name in stack frames,
 * esbuild's binary. Sandboxes see the runtime at SANDBOX_JS_RUNTIME (/opt/graphbox/js), never at
 * its host path, so the blob is built, checked and run with the runtime at that place: this wraps a
 * command in a bubblewrap that shows the host as it is, except the runtime's folder at
 * SANDBOX_JS_RUNTIME. It isolates nothing; it is for the build (scripts/js-snapshot.ts) and for
 * running the harness outside an engine (tests). An unsandboxed engine starts from main.mjs.
 */
import { readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";

import { SOURCE_ROOT } from "../../../contract/paths.ts";
import { SANDBOX_RUNTIME_ROOT } from "../../../sandbox/bwrap.ts";

const RUNTIME_DIR = join(SOURCE_ROOT, "runtimes/js");
/** Where sandboxes see the runtime's folder (js/launch.ts SANDBOX_JS_RUNTIME). */
export const LAYOUT_RUNTIME_DIR = `${SANDBOX_RUNTIME_ROOT}/js`;
const BWRAP = "/usr/bin/bwrap";

/** A host path under the runtime's folder as the sandboxes see it; other paths as they are. */
export function inLayout(path: string): string {
  if (!path.startsWith("/")) return path;
  const rest = relative(RUNTIME_DIR, path);
  return rest.startsWith("..") ? path : join(LAYOUT_RUNTIME_DIR, rest);
}

/** `/opt` as the host has it, with the runtime's place added: each host entry bound back over the new /opt tmpfs. */
function optEntries(): string[] {
  const top = `/${LAYOUT_RUNTIME_DIR.split("/")[1]!}`;
  let names: string[] = [];
  try {
    names = readdirSync(top);
  } catch {
    // No /opt on this host.
  }
  return [
    "--tmpfs",
    top,
    ...names
      .filter((name) => join(top, name) !== dirname(LAYOUT_RUNTIME_DIR))
      .flatMap((name) => ["--dev-bind", join(top, name), join(top, name)]),
  ];
}

/**
 * `command args` (host paths under the runtime's folder rewritten) run with the runtime at its
 * sandbox place; `writable`: a folder under the runtime's that the command writes (the blob's).
 * The process keeps its other file descriptors (the harness's channel is fd 3).
 */
export function inRuntimeLayout(
  command: string,
  args: readonly string[],
  options: { writable?: string; cwd?: string } = {},
): { command: string; args: string[] } {
  const layout = ["--dev-bind", "/", "/", ...optEntries(), "--ro-bind", RUNTIME_DIR, LAYOUT_RUNTIME_DIR];
  if (options.writable) layout.push("--bind", options.writable, inLayout(options.writable));
  if (options.cwd) layout.push("--chdir", inLayout(options.cwd));
  return { command: BWRAP, args: ["--die-with-parent", ...layout, "--", inLayout(command), ...args.map(inLayout)] };
}
