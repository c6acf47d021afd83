#!/usr/bin/env bash
# Compiles the engine to dist/ (tsconfig.build.json) when dist/ is missing or older than its
# sources; `npm start` and `npm run doctor` then run plain JavaScript, with no transpiler loaded.
# The check is one `find` that stops at the first newer file: a directory counts too, since adding,
# removing or renaming a file changes its folder's mtime. `--quiet` prints only problems.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "build: $*"; }

# The client package and its CLI (packages/client/dist), on its own staleness check.
bash scripts/build-client.sh $($quiet && echo --quiet)

stamp=dist/.built
stale() {
  [ -f "$stamp" ] || return 0
  [ -n "$(find src tsconfig.json tsconfig.build.json \
    \( -path src/runtimes/js/node_modules -o -path src/runtimes/js/.snapshot -o -name __pycache__ \) -prune \
    -o \( -type d -o -name '*.ts' -o -name '*.json' \) -newer "$stamp" -print -quit)" ]
}

stale || exit 0
# One build at a time (concurrent `npm test` runs); the second finds the first's result fresh.
exec 7>.dist.lock
flock 7
stale || exit 0
say "compiling the engine to dist/"
tmp=$(mktemp -d dist.tmp.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
# Stamped before compiling: a source saved during the build is newer, and rebuilt next time.
touch "$tmp/.built"
if ! node_modules/.bin/tsc -p tsconfig.build.json --outDir "$tmp" >&2; then
  echo "build: the engine does not compile (see above); dist/ left as it was" >&2
  exit 1
fi
# Swapped in whole, so that a running engine never sees half a build; the old one is removed after.
old=""
if [ -d dist ]; then
  old=$(mktemp -u dist.old.XXXXXX)
  mv dist "$old"
fi
mv "$tmp" dist
[ -z "$old" ] || rm -rf "$old"
