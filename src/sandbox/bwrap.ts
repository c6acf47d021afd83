/**
 * The bubblewrap command line of one sandbox: which namespaces, which files, which variables.
 *
 * The file system is built from nothing: read-only /usr (with the /bin, /lib... links of a
 * merged-/usr host), the few /etc files a runtime reads, the paths the runtime names
 * (its interpreter's prefix and harness), a fresh /proc and a minimal read-only /dev, and
 * size-capped tmpfs for /tmp (the working directory and HOME live in it) and /dev/shm. The root
 * itself is made read-only last. Nothing else of the host exists inside: no home, no engine files, no store, no config.
 */
import { lstatSync, readlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import type { LaunchSpec } from "./process.ts";

/** Where the engine's gateway socket appears inside every sandbox. */
export const SANDBOX_GATEWAY_SOCKET = "/run/graphbox/gateway.sock";
/** The user and group the program runs as, inside its user namespace. */
export const SANDBOX_UID = 65534;
export const SANDBOX_TMP = "/tmp";

/** passwd, group and hosts written for the sandbox (nobody, localhost), instead of the host's. */
const SANDBOX_ETC = join(dirname(fileURLToPath(import.meta.url)), "etc");

export interface BwrapOptions {
  /** Size of the /tmp tmpfs in bytes. */
  tmpSizeBytes: number;
  /** Host path of the gateway's Unix socket, bound at SANDBOX_GATEWAY_SOCKET. */
  gatewaySocket?: string;
  /** The fd (in bwrap) its seccomp filter is read from. */
  seccompFd: number;
  /** bwrap 0.8 has --disable-userns; older ones rely on the seccomp filter alone. */
  disableUserns: boolean;
  /**
   * `all`: every capability inside the sandbox's user namespace (the fork server's zygote, which
   * builds namespaces and mounts for its children and drops them all in each child). Default `none`.
   */
  capabilities?: "none" | "all";
  /** More host paths bound read-only, each at its own place inside (after /tmp, so they may lie under it). */
  extraReadOnlyBinds?: { source: string; target: string }[];
}

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
    args.push(...(lstatSync("/etc/localtime").isSymbolicLink() ? ["--symlink", readlinkSync("/etc/localtime")] : ["--ro-bind", "/etc/localtime"]), "/etc/localtime");
  } catch {
    // No time zone: UTC.
  }
  for (const name of ["passwd", "group", "hosts"]) args.push("--ro-bind", join(SANDBOX_ETC, name), `/etc/${name}`);
  return args;
}

let hostLayout: string[] | null = null;

/**
 * The arguments for `bwrap --args <fd>` (NUL-separated, so none of them, variables included,
 * shows in the host's process list). The command itself follows on bwrap's command line.
 */
export function bwrapArguments(spec: LaunchSpec, options: BwrapOptions): string[] {
  hostLayout ??= [...rootLinks(), ...etcFiles()];
  const id = String(SANDBOX_UID);
  const args = [
    "--unshare-user", "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup",
    "--uid", id, "--gid", id, "--hostname", "graphbox",
    ...(options.disableUserns ? ["--disable-userns"] : []),
    // The sandbox dies with the engine; no controlling terminal to push input into (TIOCSTI).
    "--die-with-parent", "--new-session", ...(options.capabilities === "all" ? ["--cap-add", "ALL"] : ["--cap-drop", "ALL"]),
    "--clearenv",
    ...Object.entries(spec.env).flatMap(([name, value]) => ["--setenv", name, value]),
    "--ro-bind", "/usr", "/usr",
    ...hostLayout,
    "--proc", "/proc",
    "--dev", "/dev",
    // Mounted after the binds: a tmpfs given after a bind into the same directory would hide it.
    "--perms", "1777", "--size", String(options.tmpSizeBytes), "--tmpfs", SANDBOX_TMP,
    // POSIX shared memory and semaphores (multiprocessing) live here: capped like /tmp, since bwrap's /dev tmpfs has no size.
    "--perms", "1777", "--size", String(options.tmpSizeBytes), "--tmpfs", "/dev/shm",
  ];
  // The working directory (HOME and TMPDIR too) is recreated, empty, inside the sandbox's own tmp.
  if (spec.cwd.startsWith(`${SANDBOX_TMP}/`)) args.push("--dir", spec.cwd);
  else args.push("--size", String(options.tmpSizeBytes), "--tmpfs", spec.cwd);
  // The runtime's files after the tmpfs mounts: a project checked out under /tmp must stay visible.
  for (const path of spec.readOnlyPaths ?? []) args.push("--ro-bind", path, path);
  if (options.gatewaySocket) args.push("--ro-bind", options.gatewaySocket, SANDBOX_GATEWAY_SOCKET);
  for (const bind of options.extraReadOnlyBinds ?? []) args.push("--ro-bind", bind.source, bind.target);
  args.push("--remount-ro", "/dev", "--remount-ro", "/", "--chdir", spec.cwd, "--seccomp", String(options.seccompFd));
  return args;
}
