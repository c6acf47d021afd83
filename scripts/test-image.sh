#!/usr/bin/env bash
# Tests the OCI image as it ships (as root): builds it (scripts/image.sh; `--built` skips that when
# it was just built), then runs against containers started with the documented least-privilege
# flags test/image/ (the container itself), the specification's request, the corpus and both
# attack suites, two files at a time. Arguments after the options go to `node --test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--built" ]; then shift; else bash scripts/image.sh --quiet; fi
export GRAPHBOX_TEST_IMAGE=${GRAPHBOX_IMAGE:-localhost/graphbox:latest}
exec node --import tsx --test --test-concurrency=2 "$@" test/image/*.test.ts test/spec-request.test.ts \
  test/corpus.test.ts test/attacks.test.ts test/attacks-js.test.ts
