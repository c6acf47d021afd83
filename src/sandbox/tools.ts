/** The host programs the launch chain runs, by absolute path (the engine's PATH is not trusted). */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export const TOOLS = {
  sh: "/bin/sh",
  prlimit: "/usr/bin/prlimit",
  setpriv: "/usr/bin/setpriv",
  bwrap: "/usr/bin/bwrap",
  unshare: "/usr/bin/unshare",
  mount: "/usr/bin/mount",
} as const;

/** True when the engine runs as root: the sandbox then drops to uid 65534 on the host too (setpriv). */
export const ENGINE_IS_ROOT = process.getuid?.() === 0;

/** The tools this host lacks. */
export function missingTools(): string[] {
  const needed: string[] = [TOOLS.sh, TOOLS.prlimit, TOOLS.bwrap];
  // A root engine drops to uid 65534 (setpriv) and stages the sandbox's host files in a private mount namespace (mounts.ts).
  if (ENGINE_IS_ROOT) needed.push(TOOLS.setpriv, TOOLS.unshare, TOOLS.mount);
  return needed.filter((tool) => !existsSync(tool));
}

let disableUserns: boolean | null = null;

/** bwrap 0.8 added --disable-userns; with an older one, the seccomp filter alone refuses new user namespaces. */
export function bwrapHasDisableUserns(): boolean {
  disableUserns ??=
    spawnSync(TOOLS.bwrap, ["--help"], { encoding: "utf8" }).stdout?.includes("--disable-userns") ?? false;
  return disableUserns;
}
