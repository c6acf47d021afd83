#!/usr/bin/env bash
# Tests the OCI image as it ships (as root): builds it (scripts/image.sh; `--built` skips that when
# it was just built), then runs against containers started with the documented least-privilege
# flags test/image/ (the container itself), the specification's request, the corpus and both
# attack suites, two files at a time. Arguments after the options go to `node --test`.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--built" ]; then shift; else bash scripts/image.sh --quiet; fi
export GRAPHBOX_TEST_IMAGE=${GRAPHBOX_IMAGE:-localhost/graphbox:latest}
status=0
node --import tsx --test --test-concurrency=2 "$@" test/image/*.test.ts test/spec-request.test.ts \
  test/corpus.test.ts test/attacks.test.ts test/attacks-js.test.ts || status=$?
# Every test removed what it started: no container, volume or cgroup of a test is left.
left=$(podman ps --all --filter name=graphbox-test- --format '{{.Names}}'; podman volume ls --filter name=graphbox-test- --format '{{.Name}}')
if [ -n "$left" ]; then echo "test-image: left behind: $left" >&2; status=1; fi
for hierarchy in memory pids; do
  if [ -d "/sys/fs/cgroup/$hierarchy/graphbox" ]; then echo "test-image: left behind: /sys/fs/cgroup/$hierarchy/graphbox" >&2; status=1; fi
done
exit $status
