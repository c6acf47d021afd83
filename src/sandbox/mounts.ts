/**
 * The host files a sandbox sees beyond /usr: the runtime's folders and the gateway's socket,
 * each shown at a fixed place inside whatever the host calls it (see bwrap.ts for the places).
 *
 * A bind mount shows its source in /proc/self/mountinfo: the fourth field is the bound
 * directory's path within its file system (/work/graphbox/.venv, /tmp/graphbox-gateway-XXXX/...),
 * whatever the target. So when the engine is root, the launch wrapper first enters a private
 * mount namespace of its own (unshare --mount, dropped with the sandbox) and there shows each
 * runtime folder through a read-only overlayfs whose layers are named by file descriptor
 * (`lowerdir=/proc/self/fd/9:empty`): the sandbox binds that overlay's root, and its mountinfo
 * line reads `/ /opt/graphbox/python/venv ro,... - overlay graphbox ro,lowerdir=/proc/self/fd/9:empty`.
 * The gateway's socket is bound there too, by root: its directory stays 0700 root on the host, so
 * no local user (uid 65534 included, which the sandboxes run as) can reach it except through a
 * sandbox's own bind. A socket cannot be shown through an overlay (connect() finds no listener
 * behind an overlay inode), so that one bind still names the socket's host path.
 *
 * An engine that is not root cannot mount on the host's side: the runtime folders are then bound
 * directly (same places inside; host paths in mountinfo), and the socket's directory is the
 * engine's own (0700), which the sandboxes, mapped to the engine's uid, can reach.
 */
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { ENGINE_IS_ROOT, TOOLS } from "./tools.ts";

/** A host directory (`dir`, shown read-only) or socket (`socket`, bound as it is) a sandbox sees at `target`. */
export interface HostMount {
  kind: "dir" | "socket";
  source: string;
  target: string;
}

export interface StagedMounts {
  /** Command words to run before setpriv (root only): they mount, then execute the rest of the chain. */
  wrapper: string[];
  /** What bwrap binds, read-only: the staged mount points (root) or the host paths themselves. */
  binds: { source: string; target: string }[];
}

/**
 * In the private namespace, as root: $1 is mount(8), $2 the stage directory, then
 * `kind source name` triples up to `--`, then the rest of the chain. A folder is opened first (as
 * fd 9: fds 4-8 carry bwrap's inputs) and mounted as an overlay of that fd over the stage's empty
 * directory (a read-only overlay needs two layers), named relatively, so the options read
 * `lowerdir=/proc/self/fd/9:empty`; if this kernel has no overlayfs, it is bound read-only
 * instead. `-n`: no utab entry.
 */
const STAGE_SCRIPT = [
  'mount=$1; cd "$2" || exit 125; shift 2',
  'while [ "$1" != -- ]; do',
  "  case $1 in",
  '    dir) exec 9<"$2"',
  '      "$mount" -n -t overlay graphbox -o ro,lowerdir=/proc/self/fd/9:empty "$3" 2>/dev/null || "$mount" -n -r --bind "$2" "$3" || exit 125',
  "      exec 9<&- ;;",
  '    socket) "$mount" -n --bind "$2" "$3" || exit 125 ;;',
  "    *) exit 125 ;;",
  "  esac",
  "  shift 3",
  "done",
  'shift; cd /; exec "$@"',
].join("\n");

let stageDir: string | null = null;
const created = new Set<string>();

/**
 * The host directory whose entries are the mount points of the private namespaces: empty, 0755
 * and root's (bwrap, running as uid 65534, must pass through it to what is mounted on them).
 */
function stage(): string {
  if (!stageDir) {
    const dir = mkdtempSync(join(tmpdir(), "graphbox-stage-"));
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "empty"), { mode: 0o755 });
    // Nothing is ever mounted on it in the host's namespace: a plain directory of empty entries, removed with the process.
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    stageDir = dir;
  }
  return stageDir;
}

/** One mount point per target, created once (a directory for a folder, an empty file for a socket). */
function mountPoint(mount: HostMount): string {
  const name = mount.target.replace(/^\//, "").replaceAll("/", "-");
  const path = join(stage(), name);
  if (!created.has(name)) {
    if (mount.kind === "dir") mkdirSync(path, { recursive: true, mode: 0o755 });
    else closeSync(openSync(path, "a", 0o644));
    created.add(name);
  }
  return name;
}

/** How the sandbox's launch chain shows `mounts` (see the module comment). */
export function stageMounts(mounts: readonly HostMount[]): StagedMounts {
  if (!ENGINE_IS_ROOT) return { wrapper: [], binds: mounts.map(({ source, target }) => ({ source, target })) };
  if (mounts.length === 0) return { wrapper: [], binds: [] };
  const names = mounts.map((m) => mountPoint(m));
  return {
    wrapper: [
      TOOLS.unshare,
      "--mount",
      "--propagation",
      "private",
      "--",
      TOOLS.sh,
      "-c",
      STAGE_SCRIPT,
      "graphbox-stage",
      TOOLS.mount,
      stage(),
      ...mounts.flatMap((m, i) => [m.kind, m.source, names[i]!]),
      "--",
    ],
    binds: mounts.map((m, i) => ({ source: join(stage(), names[i]!), target: m.target })),
  };
}
