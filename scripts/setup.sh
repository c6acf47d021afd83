#!/usr/bin/env bash
# Installs what Graphbox needs and is missing: npm packages, the Python runtime's virtual
# environment (from requirements.lock), and the system packages the sandbox uses.
# Safe to run again: each step is skipped when already done. `--quiet` prints only problems;
# `--packages-only` stops after the locked packages (the image build caches that step apart);
# `--no-snapshot` leaves the JavaScript snapshot out (the image build makes it in a container).
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
packages_only=false
snapshot=true
for arg in "$@"; do
  case $arg in
    --quiet) quiet=true ;;
    --packages-only) packages_only=true ;;
    --no-snapshot) snapshot=false ;;
    *) echo "setup: unknown option $arg" >&2; exit 2 ;;
  esac
done
say() { $quiet || echo "setup: $*"; }
fail() { echo "setup: $*" >&2; exit 1; }

# --- System packages: bubblewrap (the sandbox), python3-venv, and python3-seccomp (libseccomp's
# binding for Debian's python3: the engine compiles the sandbox's seccomp allowlist with it at start,
# see src/sandbox/seccomp.ts). Installed when we are root on a Debian/Ubuntu host; otherwise say how
# (the engine's doctor reports what is missing either way).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
if [ -x /usr/bin/python3 ] && ! /usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi
if ! /usr/bin/python3 -I -c 'import seccomp' >/dev/null 2>&1; then missing+=(python3-seccomp); fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
      || fail "could not install ${missing[*]} with apt-get"
  else
    echo "setup: missing system packages: ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install ${missing[*]})" >&2
  fi
fi

# --- Node.js
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || fail "Node.js 20 or newer is required (https://nodejs.org)"
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is required; this is $(node --version)"
# better-sqlite3 compiles against Node's headers; use the installed ones rather than downloading them.
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
[ -f "$node_prefix/include/node/node.h" ] && export npm_config_nodedir="$node_prefix"
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.graphbox-installed ] || [ "$(cat node_modules/.graphbox-installed)" != "$lock_hash" ]; then
  say "installing npm packages"
  # --include=dev: setup compiles the engine (typescript) and builds the JS snapshot (tsx), even under NODE_ENV=production.
  npm ci --include=dev --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.graphbox-installed
fi

# --- Python runtime
# Debian's /usr/bin/python3 first: the sandbox then needs only /usr and the project (.venv, harness),
# never a home directory (a pyenv interpreter lives under /root, which the sandbox must not see).
default_python=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3.11 || command -v python3 || true)
python=${GRAPHBOX_BOOTSTRAP_PYTHON:-$default_python}
[ -n "$python" ] || fail "Python 3.11 is required to create the runtime's virtual environment (apt-get install python3 python3-venv)"
base=$(readlink -f "$(command -v "$python")")
req=src/runtimes/python/requirements.lock
req_hash=$(sha256sum "$req" | cut -c1-16)
# The marker records the lock's hash and the base interpreter the venv was made from.
want="$req_hash $base"
if [ ! -f .venv/.graphbox-installed ] || [ "$(cat .venv/.graphbox-installed)" != "$want" ]; then
  # One setup at a time: concurrent `npm test` runs must not rebuild .venv under each other.
  exec 9>.venv.lock
  flock 9
  if [ ! -f .venv/.graphbox-installed ] || [ "$(cat .venv/.graphbox-installed)" != "$want" ]; then
    if [ -e .venv ] && [ "$(readlink -f .venv/bin/python 2>/dev/null)" != "$base" ]; then
      say "recreating .venv from $base (it was made from $(readlink -f .venv/bin/python 2>/dev/null || echo nothing))"
      rm -rf .venv
    fi
    say "creating the Python runtime in .venv (LangGraph and the LLM clients)"
    [ -x .venv/bin/python ] || "$python" -m venv .venv || fail "could not create .venv; install python3-venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
    echo "$want" > .venv/.graphbox-installed
  fi
  exec 9>&-
fi
# pyvenv.cfg's `command` line names the host path the venv was made at; Python does not read it, and
# sandboxes show the venv (at /opt/graphbox/python/venv) without it.
if grep -q '^command = ' .venv/pyvenv.cfg 2>/dev/null; then sed -i '/^command = /d' .venv/pyvenv.cfg; fi

# --- JavaScript/TypeScript runtime: LangGraph.js, the LLM clients and esbuild, in the runtime's own
# node_modules (apart from the engine's packages, which a program must not reach). npm 11 skips
# install scripts it was not told to allow; esbuild needs none (its binary is an optional package).
js_dir=src/runtimes/js
js_hash=$(sha256sum "$js_dir/package-lock.json" | cut -c1-16)
if [ ! -f "$js_dir/node_modules/.graphbox-installed" ] || [ "$(cat "$js_dir/node_modules/.graphbox-installed")" != "$js_hash" ]; then
  exec 8>"$js_dir/.install.lock"
  flock 8
  if [ ! -f "$js_dir/node_modules/.graphbox-installed" ] || [ "$(cat "$js_dir/node_modules/.graphbox-installed")" != "$js_hash" ]; then
    say "installing the JavaScript runtime in $js_dir/node_modules (LangGraph.js and the LLM clients)"
    (cd "$js_dir" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$js_hash" > "$js_dir/node_modules/.graphbox-installed"
  fi
  exec 8>&-
fi
$packages_only && exit 0
# --- The operator's extra packages (GRAPHBOX_PYTHON_PACKAGES, GRAPHBOX_JS_PACKAGES), installed beside the
# locked ones and removed when no longer listed (scripts/runtime-packages.ts); before the snapshot, whose
# build reads the engine's configuration, which refuses packages not installed. Skipped when none are
# configured and none were installed (the markers).
if [ -n "${GRAPHBOX_PYTHON_PACKAGES:-}${GRAPHBOX_JS_PACKAGES:-}${GRAPHBOX_PYTHON:-}" ] || [ -f .venv/.graphbox-packages ] || [ -f "$js_dir/node_modules/.graphbox-packages" ]; then
  flock .venv.lock flock "$js_dir/.install.lock" node --import tsx scripts/runtime-packages.ts $($quiet && echo --quiet)
fi
$snapshot && flock "$js_dir/.install.lock" node --import tsx scripts/js-snapshot.ts $($quiet && echo --quiet) # the JS runtime's startup snapshot, rebuilt when stale (see src/runtimes/js/snapshot/)
# --- The engine, compiled to dist/ when missing or older than src/ (what `npm start` runs). Last: the
# steps above create files in src/runtimes/js, which would otherwise look newer than the build.
bash scripts/build.sh $($quiet && echo --quiet)
# --- The playground page (/playground): bundled by esbuild into packages/playground/dist when its sources
# are newer than the last build (a second or two; nothing to do otherwise).
node packages/playground/build.mjs $($quiet && echo --quiet)
say "ready"
