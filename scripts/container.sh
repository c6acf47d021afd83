#!/usr/bin/env bash
# Runs Graphbox's image with least privilege (docs/deploy.md explains each flag), or removes such a
# container and everything it was given. As root on the host (it prepares the container's cgroups):
#   scripts/container.sh run NAME [podman run options...]   e.g. -p 127.0.0.1:8000:8000 -e GRAPHBOX_API_KEYS=...
#   scripts/container.sh rm NAME                            the container, its data volume, its cgroups
#   scripts/container.sh seccomp FILE                       writes the seccomp profile the container runs under
# GRAPHBOX_IMAGE names the image (default localhost/graphbox:latest).
set -euo pipefail
cd "$(dirname "$0")/.."

image=${GRAPHBOX_IMAGE:-localhost/graphbox:latest}
work=${GRAPHBOX_IMAGE_CACHE:-/var/tmp/graphbox-image}
engine_uid=10001 # the image's `graphbox` user
podman=(podman --runtime runc)
fail() { echo "container: $*" >&2; exit 1; }

# The runtime's default seccomp profile, with sethostname and setdomainname allowed: bubblewrap names
# the sandbox's host in the sandbox's own UTS namespace, which the default allows only to holders
# of CAP_SYS_ADMIN. Nothing else is added; the sandbox's own, narrower filter applies inside.
seccomp_profile() {
  local default=/usr/share/containers/seccomp.json
  [ -f "$default" ] || fail "no default seccomp profile at $default (package containers-common)"
  python3 - "$default" "$1" <<'PY'
import json, sys
profile = json.load(open(sys.argv[1]))
names = {"sethostname", "setdomainname"}
for rule in profile["syscalls"]:
    if rule["action"] != "SCMP_ACT_ALLOW":
        rule["names"] = [n for n in rule["names"] if n not in names]
profile["syscalls"] = [r for r in profile["syscalls"] if r["names"]]
profile["syscalls"].append({"names": sorted(names), "action": "SCMP_ACT_ALLOW",
                            "comment": "graphbox: bubblewrap sets the hostname of the sandbox's own UTS namespace"})
json.dump(profile, open(sys.argv[2], "w"), indent=1)
PY
}

# The cgroups the engine makes its sandboxes' cgroups in: a directory per container in each v1
# hierarchy (memory, pids), owned by the engine's user, mounted over the container's own.
cgroup_dirs() { echo "/sys/fs/cgroup/memory/graphbox/$1 /sys/fs/cgroup/pids/graphbox/$1"; }

case ${1:-} in
  seccomp)
    [ -n "${2:-}" ] || fail "usage: scripts/container.sh seccomp FILE"
    seccomp_profile "$2"
    ;;
  run)
    name=${2:?usage: scripts/container.sh run NAME [podman run options...]}
    shift 2
    mkdir -p "$work"
    seccomp_profile "$work/seccomp.json"
    mounts=()
    if [ -f /sys/fs/cgroup/memory/cgroup.procs ] && [ -f /sys/fs/cgroup/pids/cgroup.procs ]; then
      read -r memory pids <<<"$(cgroup_dirs "$name")"
      mkdir -p "$memory" "$pids"
      chown -R "$engine_uid:$engine_uid" "$memory" "$pids"
      mounts=(-v "$memory:/sys/fs/cgroup/memory:rw" -v "$pids:/sys/fs/cgroup/pids:rw")
    else
      echo "container: no cgroup v1 memory and pids hierarchies here: sandboxes run without memory and process limits (docs/deploy.md, cgroup v2)" >&2
    fi
    exec "${podman[@]}" run --detach --name "$name" \
      --cap-drop all --security-opt no-new-privileges \
      --security-opt "seccomp=$work/seccomp.json" \
      --security-opt 'unmask=/proc/*' \
      --read-only \
      --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
      "${mounts[@]}" \
      -v "$name-data:/var/lib/graphbox" \
      "$@" "$image"
    ;;
  rm)
    name=${2:?usage: scripts/container.sh rm NAME}
    "${podman[@]}" rm --force --time 20 "$name" >/dev/null 2>&1 || true
    "${podman[@]}" volume rm --force "$name-data" >/dev/null 2>&1 || true
    for dir in $(cgroup_dirs "$name"); do
      [ -d "$dir" ] || continue
      # The engine removes its sandboxes' cgroups; any it could not (killed) go first, deepest first.
      find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
      rmdir "$dir" || fail "could not remove $dir (a process is still in it?)"
      rmdir "$(dirname "$dir")" 2>/dev/null || true # the graphbox folder, once no container uses it
    done
    ;;
  *) fail "usage: scripts/container.sh run NAME [podman run options...] | rm NAME | seccomp FILE" ;;
esac
