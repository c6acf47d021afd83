/**
 * The bubblewrap command line of one sandbox: which namespaces, which files, which variables.
 *
 * The file system is built from nothing: read-only /usr (with the /bin, /lib... links of a
 * merged-/usr host), the few /etc files a runtime reads (passwd, group and hosts written by bwrap
 * from the engine's copies, not bound), the runtime's folders at fixed places under /opt/graphbox
 * whatever the host calls them (mounts.ts), a fresh /proc and a minimal read-only /dev, and
 * size-capped tmpfs for /tmp (the working directory, /tmp/work, and HOME live in it) and /dev/shm.
 * The root itself is made read-only last. Nothing else of the host exists inside: no home, no
 * engine files, no store, no config, and no host path in the program's arguments, environment or
 * working directory.
 */
import { lstatSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

import { SOURCE_ROOT } from "../contract/paths.ts";
import type { LaunchSpec } from "./process.ts";

/** Where the engine's gateway socket appears inside every sandbox. */
export const SANDBOX_GATEWAY_SOCKET = "/run/graphbox/gateway.sock";
/** The user and group the program runs as, inside its user namespace. */
export const SANDBOX_UID = 65534;
export const SANDBOX_TMP = "/tmp";
/** The working directory (and HOME, TMPDIR) of every program, in the sandbox's own /tmp. */
export const SANDBOX_WORKDIR = "/tmp/work";
/** Where the runtimes' folders appear inside: python/venv, python/harness, js. */
export const SANDBOX_RUNTIME_ROOT = "/opt/graphbox";

/** A host folder a runtime needs, shown read-only at `target` (under SANDBOX_RUNTIME_ROOT). */
export interface RuntimeMount {
  source: string;
  target: string;
}

/**
 * What a runtime asks to run, with host paths throughout (as an unsandboxed run uses them), plus
 * the folders it needs and where they appear inside. The launcher rewrites every argument and
 * variable that names a mounted folder or the working directory into its place inside.
 */
export type SandboxSpec = LaunchSpec & {
  mounts?: readonly RuntimeMount[];
  /** The arguments of a run without a sandbox, where they differ (the JS startup snapshot holds the sandboxes' paths). */
  hostArgs?: string[];
};

/** passwd, group and hosts for the sandbox (nobody, localhost), instead of the host's. */
const SANDBOX_ETC = join(SOURCE_ROOT, "sandbox/etc");
const ETC_FILES = ["passwd", "group", "hosts"] as const;

/** `value` with a leading host path replaced by its place inside (`from` -> `to`), or null. */
function rebase(value: string, from: string, to: string): string | null {
  if (value === from) return to;
  return value.startsWith(`${from}/`) ? to + value.slice(from.length) : null;
}

/**
 * The command, arguments, environment and working directory as the program sees them: host
 * paths of mounted folders become their places inside, the host working directory (an
 * execution's temp dir, named in HOME and TMPDIR too) becomes SANDBOX_WORKDIR.
 */
export function sandboxView(spec: SandboxSpec): {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
} {
  // Longest first: a folder inside another mounted one maps to its own place.
  const maps: { from: string; to: string }[] = [
    ...(spec.mounts ?? []).map((m) => ({ from: m.source, to: m.target })),
    { from: spec.cwd, to: SANDBOX_WORKDIR },
  ];
  maps.sort((a, b) => b.from.length - a.from.length);
  const inside = (value: string): string => {
    for (const { from, to } of maps) {
      const rebased = rebase(value, from, to);
      if (rebased !== null) return rebased;
    }
    return value;
  };
  return {
    command: inside(spec.command),
    args: spec.args.map(inside),
    env: Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, inside(value)])),
    cwd: SANDBOX_WORKDIR,
  };
}

/**
 * The command, arguments, environment and working directory of a run without a sandbox: the
 * spec's working directory (and every argument or variable naming it: HOME, TMPDIR) becomes
 * `workDir`, a host directory of the run's own; the runtime's folders stay where they are.
 */
export function hostView(
  spec: SandboxSpec,
  workDir: string,
): { command: string; args: string[]; env: Record<string, string>; cwd: string } {
  const here = (value: string): string => rebase(value, spec.cwd, workDir) ?? value;
  return {
    command: spec.command,
    args: (spec.hostArgs ?? spec.args).map(here),
    env: Object.fromEntries(Object.entries(spec.env).map(([name, value]) => [name, here(value)])),
    cwd: workDir,
  };
}

export interface BwrapOptions {
  /** Size of the /tmp tmpfs in bytes. */
  tmpSizeBytes: number;
  /** Read-only binds after /tmp (mounts.ts: the staged runtime folders and gateway socket), in order. */
  binds: { source: string; target: string }[];
  /** The fd (in bwrap) its seccomp filter is read from. */
  seccompFd: number;
  /** The first of three fds (in bwrap) passwd, group and hosts are read from (see `etcInputs`). */
  etcFd: number;
  /** bwrap 0.8 has --disable-userns; older ones rely on the seccomp filter alone. */
  disableUserns: boolean;
  /**
   * `all`: every capability inside the sandbox's user namespace (the fork server's zygote, which
   * builds namespaces and mounts for its children and drops them all in each child). Default `none`.
   */
  capabilities?: "none" | "all";
}

/** The contents bwrap writes to /etc/passwd, /etc/group and /etc/hosts, in that order, from fds etcFd, etcFd+1, etcFd+2. */
export function etcInputs(): Buffer[] {
  etcContents ??= ETC_FILES.map((name) => readFileSync(join(SANDBOX_ETC, name)));
  return etcContents;
}
let etcContents: Buffer[] | null = null;

/** /bin, /lib... as the host has them: links into /usr on merged-/usr systems, else read-only binds. */
function rootLinks(): string[] {
  const args: string[] = [];
  for (const name of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    try {
      const stat = lstatSync(name);
      if (stat.isSymbolicLink()) args.push("--symlink", readlinkSync(name), name);
      else if (stat.isDirectory()) args.push("--ro-bind", name, name);
    } catch {
      // Not on this host.
    }
  }
  return args;
}

function etcFiles(): string[] {
  const args = ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"];
  try {
    // A link into /usr/share/zoneinfo on Debian; keep it a link so it resolves inside.
    args.push(
      ...(lstatSync("/etc/localtime").isSymbolicLink()
        ? ["--symlink", readlinkSync("/etc/localtime")]
        : ["--ro-bind", "/etc/localtime"]),
      "/etc/localtime",
    );
  } catch {
    // No time zone: UTC.
  }
  return args;
}

let hostLayout: string[] | null = null;

/**
 * The arguments for `bwrap --args <fd>` (NUL-separated, so none of them, variables included,
 * shows in the host's process list) for a program as sandboxView() gives it. The command itself
 * follows on bwrap's command line.
 */
export function bwrapArguments(
  view: { env: Record<string, string>; cwd: string; readOnlyPaths?: string[] },
  options: BwrapOptions,
): string[] {
  hostLayout ??= [...rootLinks(), ...etcFiles()];
  const id = String(SANDBOX_UID);
  const args = [
    "--unshare-user",
    "--unshare-ipc",
    "--unshare-pid",
    "--unshare-net",
    "--unshare-uts",
    "--unshare-cgroup",
    "--uid",
    id,
    "--gid",
    id,
    "--hostname",
    "graphbox",
    ...(options.disableUserns ? ["--disable-userns"] : []),
    // The sandbox dies with the engine; no controlling terminal to push input into (TIOCSTI).
    "--die-with-parent",
    "--new-session",
    ...(options.capabilities === "all" ? ["--cap-add", "ALL"] : ["--cap-drop", "ALL"]),
    "--clearenv",
    ...Object.entries(view.env).flatMap(([name, value]) => ["--setenv", name, value]),
    "--ro-bind",
    "/usr",
    "/usr",
    ...hostLayout,
    // Written into the sandbox's own root (read-only once it is remounted): no bind, so nothing of the host's in mountinfo.
    ...ETC_FILES.flatMap((name, i) => ["--perms", "0444", "--file", String(options.etcFd + i), `/etc/${name}`]),
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    // Mounted after the binds: a tmpfs given after a bind into the same directory would hide it.
    "--perms",
    "1777",
    "--size",
    String(options.tmpSizeBytes),
    "--tmpfs",
    SANDBOX_TMP,
    // POSIX shared memory and semaphores (multiprocessing) live here: capped like /tmp, since bwrap's /dev tmpfs has no size.
    "--perms",
    "1777",
    "--size",
    String(options.tmpSizeBytes),
    "--tmpfs",
    "/dev/shm",
  ];
  // The working directory (HOME and TMPDIR too) is created, empty, inside the sandbox's own tmp.
  if (view.cwd.startsWith(`${SANDBOX_TMP}/`)) args.push("--dir", view.cwd);
  else args.push("--size", String(options.tmpSizeBytes), "--tmpfs", view.cwd);
  // Prefixes the runtime needs outside /usr (a pyenv or nvm install), at their own place: after the tmpfs mounts, so one under /tmp stays visible.
  for (const path of view.readOnlyPaths ?? []) args.push("--ro-bind", path, path);
  for (const bind of options.binds) args.push("--ro-bind", bind.source, bind.target);
  args.push("--remount-ro", "/dev", "--remount-ro", "/", "--chdir", view.cwd, "--seccomp", String(options.seccompFd));
  return args;
}
