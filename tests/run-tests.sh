#!/usr/bin/env bash
# README command 2, and what CI runs: every test of the solution, against Azurite.
# Starts its own Azurite on the ports of CHILDSHARE_AZURITE_PORT (default 10000; it stops when they are
# taken, unless CHILDSHARE_AZURITE_REUSE=1) and stops it after; with CHILDSHARE_TEST_STORAGE set it
# uses that storage instead and starts nothing. Then prints one line "N passed, N failed, N skipped"
# summed from the TRX results, and fails when any test failed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/infra/local/azurite.sh"
trap azurite_down EXIT
if [ -z "${CHILDSHARE_TEST_STORAGE:-}" ]; then
  azurite_up
else
  echo "tests: using CHILDSHARE_TEST_STORAGE; no emulator started"
fi

results="$(mktemp -d)"
status=0
dotnet test "$root/ChildShare.Functions.sln" --logger "trx" --results-directory "$results" "$@" || status=$?

total_passed=0; total_failed=0; total_skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  value() { local v; v="$(echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p")"; echo "${v:-0}"; }
  total_passed=$((total_passed + $(value passed)))
  total_failed=$((total_failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  total_skipped=$((total_skipped + $(value notExecuted)))
done
rm -rf "$results"

echo "${total_passed} passed, ${total_failed} failed, ${total_skipped} skipped"
if [ "$files" -eq 0 ] || [ "$total_passed" -eq 0 ]; then
  echo "no test results were produced" >&2
  exit 1
fi
if [ "$status" -ne 0 ] || [ "$total_failed" -ne 0 ]; then
  exit 1
fi
