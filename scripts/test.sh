#!/usr/bin/env bash
# The test suite for `npm test`: test/long/ (connections held for minutes of real time, mostly
# waiting) runs beside the rest, so that the whole suite takes about as long as its longest part.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
long_log=$(mktemp)
trap 'rm -f "$long_log"' EXIT
bun test --timeout 400000 test/long/ >"$long_log" 2>&1 &
long=$!
bun test --timeout 120000 --path-ignore-patterns='test/long/**' test/
rest=$?
wait "$long"
long_rc=$?
echo
echo "test/long/ (run beside the rest):"
cat "$long_log"
[[ $rest -eq 0 && $long_rc -eq 0 ]]
