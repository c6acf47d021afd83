#!/usr/bin/env bash
# Compiles the client package (@graphbox/client and its `graphbox` CLI) to packages/client/dist when
# it is missing or older than its sources, as build.sh does for the engine: stamped before
# compiling, one build at a time, swapped in whole. The client is first type-checked without Node's
# types (tsconfig.browser.json): it must run in browsers too. `--quiet` prints only problems.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "build: $*"; }

dir=packages/client
stamp=$dir/dist/.built
stale() {
  [ -f "$stamp" ] || return 0
  [ -n "$(find "$dir/src" "$dir"/tsconfig*.json "$dir/package.json" \
    \( -type d -o -name '*.ts' -o -name '*.json' \) -newer "$stamp" -print -quit)" ]
}

stale || exit 0
exec 6>.dist-client.lock
flock 6
stale || exit 0
say "compiling the client to $dir/dist/"
tmp=$(mktemp -d "$dir/dist.tmp.XXXXXX")
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/.built"
if ! node_modules/.bin/tsc -p "$dir/tsconfig.browser.json" >&2 || ! node_modules/.bin/tsc -p "$dir/tsconfig.json" --outDir "$tmp" >&2; then
  echo "build: the client does not compile (see above); $dir/dist/ left as it was" >&2
  exit 1
fi
old=""
if [ -d "$dir/dist" ]; then
  old=$(mktemp -u "$dir/dist.old.XXXXXX")
  mv "$dir/dist" "$old"
fi
mv "$tmp" "$dir/dist"
[ -z "$old" ] || rm -rf "$old"
