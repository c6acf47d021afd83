#!/usr/bin/env bash
# Runs the test files, two at a time (most of a file's time is spent waiting on sandboxes and
# servers), then the files that change what every engine on the machine shares, one at a time
# with nothing else running. Arguments go to `node --test` (e.g. --test-name-pattern=...).
set -euo pipefail
cd "$(dirname "$0")/.."

# extra-packages.test.ts installs packages into the JavaScript runtime's own node_modules and removes them.
alone=(test/extra-packages.test.ts)

together=()
for file in test/*.test.ts; do
  [[ " ${alone[*]} " == *" $file "* ]] || together+=("$file")
done
status=0
node --import tsx --test --test-concurrency=2 "$@" "${together[@]}" || status=$?
for file in "${alone[@]}"; do node --import tsx --test "$@" "$file" || status=$?; done
exit $status
