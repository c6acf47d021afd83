#!/usr/bin/env bash
# Two engines and a PostgreSQL behind a round-robin proxy, with podman (image/pod.yaml), as root:
#   scripts/stack.sh up     builds what is missing (scripts/image.sh, the PostgreSQL and proxy images),
#                           delegates a cgroup to each engine, writes the seccomp profile, plays the pod;
#                           the API key is printed, the proxy listens on 127.0.0.1:8000
#   scripts/stack.sh down   stops the pod and removes it, its database volume and the cgroups
set -euo pipefail
cd "$(dirname "$0")/.."

work=${GRAPHBOX_IMAGE_CACHE:-/var/tmp/graphbox-image}
podman=(podman --runtime runc)
engines=(engine-a engine-b)
fail() { echo "stack: $*" >&2; exit 1; }

case ${1:-} in
  up)
    # A pod's infra container runs catatonit (podman builds its pause image locally from it).
    if ! command -v catatonit >/dev/null 2>&1 && [ ! -x /usr/libexec/podman/catatonit ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends catatonit >/dev/null \
        || fail "install catatonit (apt-get install catatonit)"
    fi
    "${podman[@]}" image exists localhost/graphbox:latest || bash scripts/image.sh
    for part in postgres proxy; do
      "${podman[@]}" image exists "localhost/graphbox-$part:latest" \
        || "${podman[@]}" build --quiet --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 \
          -f "image/$part.Containerfile" -t "localhost/graphbox-$part:latest" . >/dev/null
    done
    mkdir -p "$work/seccomp"
    bash scripts/container.sh seccomp "$work/seccomp/graphbox.json"
    for engine in "${engines[@]}"; do
      for hierarchy in memory pids; do
        mkdir -p "/sys/fs/cgroup/$hierarchy/graphbox/$engine"
        chown -R 10001:10001 "/sys/fs/cgroup/$hierarchy/graphbox/$engine"
      done
    done
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    key=gbx-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    sed -e "s/@DATABASE_PASSWORD@/$password/g" -e "s/@API_KEYS@/$key/g" image/pod.yaml >"$work/pod.yaml"
    chmod 600 "$work/pod.yaml"
    # This host's podman defaults to limits root may not set here (docs/deploy.md): the pod's are these.
    printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' >"$work/containers.conf"
    CONTAINERS_CONF=$work/containers.conf "${podman[@]}" kube play --seccomp-profile-root "$work/seccomp" "$work/pod.yaml" >/dev/null
    echo "stack: the proxy is at http://127.0.0.1:8000; API key: $key"
    ;;
  down)
    "${podman[@]}" kube down "$work/pod.yaml" >/dev/null 2>&1 || "${podman[@]}" pod rm --force graphbox >/dev/null 2>&1 || true
    "${podman[@]}" volume rm --force graphbox-pgdata >/dev/null 2>&1 || true
    rm -f "$work/pod.yaml"
    for engine in "${engines[@]}"; do
      for hierarchy in memory pids; do
        dir=/sys/fs/cgroup/$hierarchy/graphbox/$engine
        [ -d "$dir" ] || continue
        find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null || true
        rmdir "$dir" || fail "could not remove $dir"
      done
    done
    rmdir /sys/fs/cgroup/memory/graphbox /sys/fs/cgroup/pids/graphbox 2>/dev/null || true
    ;;
  *) fail "usage: scripts/stack.sh up | down" ;;
esac
