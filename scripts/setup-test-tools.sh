#!/usr/bin/env bash
# Installs the Python test tools (pinned in test/tools/requirements.lock) into .venv-tools: the
# OpenAPI fuzzer (schemathesis) and LangGraph's Python client (langgraph-sdk). Kept apart from
# setup.sh and the runtime's .venv: only tests need them, so `npm start` never installs them and
# programs never see them. Safe to run again: skipped when done. Prints the venv's bin directory.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "setup-test-tools: $*" >&2; exit 1; }

python=${GRAPHBOX_BOOTSTRAP_PYTHON:-$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 || true)}
[ -n "$python" ] || fail "Python 3 is required to install the test tools (apt-get install python3 python3-venv)"
req=test/tools/requirements.lock
want="$(sha256sum "$req" | cut -c1-16) $(readlink -f "$(command -v "$python")")"
venv=.venv-tools
if [ ! -f "$venv/.graphbox-installed" ] || [ "$(cat "$venv/.graphbox-installed")" != "$want" ]; then
  # Two test runs at once must not build the same venv under each other.
  exec 9>"$venv.lock"
  flock 9
  if [ ! -f "$venv/.graphbox-installed" ] || [ "$(cat "$venv/.graphbox-installed")" != "$want" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv" || fail "could not create $venv; install python3-venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$req" >&2 \
      || fail "could not install $req into $venv"
    echo "$want" > "$venv/.graphbox-installed"
  fi
  exec 9>&-
fi
echo "$PWD/$venv/bin"
