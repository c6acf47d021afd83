#!/usr/bin/env bash
# Two engines and a PostgreSQL behind a round-robin proxy, in one podman pod, as root:
#   scripts/stack.sh up     builds what is missing (scripts/image.sh, image/postgres.Containerfile,
#                           image/proxy.Containerfile), starts PostgreSQL, the two engines (each by
#                           scripts/container.sh, with its least-privilege flags and a cgroup of its
#                           own) and nginx on 127.0.0.1:8000; prints the API key
#   scripts/stack.sh down   removes the pod, its containers, the database volume and the cgroups
# (A pod spec for `podman kube play` cannot carry the engines' unmasked /proc on podman 4.3, which
# ignores procMount: Unmasked; image/k8s.yaml is the Kubernetes form.)
set -euo pipefail
cd "$(dirname "$0")/.."

work=${GRAPHBOX_IMAGE_CACHE:-/var/tmp/graphbox-image}
podman=(podman --runtime runc)
limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
fail() { echo "stack: $*" >&2; exit 1; }

case ${1:-} in
  up)
    "${podman[@]}" pod exists graphbox && fail "a pod named graphbox exists: scripts/stack.sh down first"
    # A pod's infra container runs catatonit (podman builds its pause image locally from it).
    if ! command -v catatonit >/dev/null 2>&1 && [ ! -x /usr/libexec/podman/catatonit ]; then
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends catatonit >/dev/null \
        || fail "install catatonit (apt-get install catatonit)"
    fi
    "${podman[@]}" image exists localhost/graphbox:latest || bash scripts/image.sh
    for part in postgres proxy; do
      "${podman[@]}" image exists "localhost/graphbox-$part:latest" \
        || "${podman[@]}" build --quiet "${limits[@]}" -f "image/$part.Containerfile" -t "localhost/graphbox-$part:latest" . >/dev/null
    done
    # This host's podman defaults to limits root may not set here (docs/deploy.md), the pod's infra
    # container included, which takes no --ulimit: the pod's default limits are these.
    mkdir -p "$work"
    printf '[containers]\ndefault_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]\n' >"$work/containers.conf"
    export CONTAINERS_CONF=$work/containers.conf
    password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    key=gbx-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    # Only the proxy's port leaves the pod; inside it, everything is on 127.0.0.1.
    "${podman[@]}" pod create --name graphbox -p 127.0.0.1:8000:8000 >/dev/null
    "${podman[@]}" run --detach --pod graphbox --name graphbox-postgres "${limits[@]}" \
      --cap-drop all --security-opt no-new-privileges -e "POSTGRES_PASSWORD=$password" \
      -v graphbox-pgdata:/var/lib/postgresql/data localhost/graphbox-postgres:latest >/dev/null
    for _ in $(seq 100); do
      "${podman[@]}" exec graphbox-postgres pg_isready -q -h 127.0.0.1 -d graphbox -U graphbox && break
      sleep 0.2
    done
    port=8001
    for engine in graphbox-engine-a graphbox-engine-b; do
      bash scripts/container.sh run "$engine" --pod graphbox -e "GRAPHBOX_PORT=$port" -e GRAPHBOX_HOST=127.0.0.1 \
        -e "GRAPHBOX_DATABASE_URL=postgres://graphbox:$password@127.0.0.1:5432/graphbox" \
        -e "GRAPHBOX_API_KEYS=$key" >/dev/null
      port=$((port + 1))
    done
    "${podman[@]}" run --detach --pod graphbox --name graphbox-proxy "${limits[@]}" \
      --cap-drop all --security-opt no-new-privileges --read-only --tmpfs /tmp localhost/graphbox-proxy:latest >/dev/null
    echo "stack: the proxy is at http://127.0.0.1:8000; API key: $key"
    ;;
  down)
    for engine in graphbox-engine-a graphbox-engine-b; do bash scripts/container.sh rm "$engine"; done
    "${podman[@]}" pod rm --force graphbox >/dev/null 2>&1 || true
    "${podman[@]}" volume rm --force graphbox-pgdata >/dev/null 2>&1 || true
    ;;
  *) fail "usage: scripts/stack.sh up | down" ;;
esac
