#!/usr/bin/env bash
# Installs what Graphbox needs and is missing: npm packages, the Python runtime's virtual
# environment (from requirements.lock), and the system packages the sandbox uses.
# Safe to run again: each step is skipped when already done. `--quiet` prints only problems.
set -euo pipefail
cd "$(dirname "$0")/.."

quiet=false
[ "${1:-}" = "--quiet" ] && quiet=true
say() { $quiet || echo "setup: $*"; }
fail() { echo "setup: $*" >&2; exit 1; }

# --- Node.js
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null) || fail "Node.js 20 or newer is required (https://nodejs.org)"
[ "$node_major" -ge 20 ] || fail "Node.js 20 or newer is required; this is $(node --version)"
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f node_modules/.graphbox-installed ] || [ "$(cat node_modules/.graphbox-installed)" != "$lock_hash" ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.graphbox-installed
fi

# --- Python runtime
python=${GRAPHBOX_BOOTSTRAP_PYTHON:-$(command -v python3.11 || command -v python3 || true)}
[ -n "$python" ] || fail "Python 3.11 is required to create the runtime's virtual environment (apt-get install python3 python3-venv)"
req=src/runtimes/python/requirements.lock
req_hash=$(sha256sum "$req" | cut -c1-16)
if [ ! -f .venv/.graphbox-installed ] || [ "$(cat .venv/.graphbox-installed)" != "$req_hash" ]; then
  say "creating the Python runtime in .venv (LangGraph and the LLM clients)"
  [ -x .venv/bin/python ] || "$python" -m venv .venv || fail "could not create .venv; install python3-venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-input -r "$req"
  echo "$req_hash" > .venv/.graphbox-installed
fi
say "ready"
