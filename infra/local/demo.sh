#!/usr/bin/env bash
# README command 1: ChildShare end to end on Azurite with the sample providers.
# Starts its own Azurite (the ports of CHILDSHARE_AZURITE_PORT), creates the containers and tables,
# registers the three sample providers with their mapping profiles, uploads their files and ingests
# them through the same code path as the blob trigger, prints every manifest, then shows the three
# sharing modes (aggregate report, de-identified export, identifiable report with consent and the
# data owner's authorization) and ends with curl lines for `childshare serve`.
# Stops Azurite when it ends, unless `--keep` is given: then the emulator and its data stay up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/local/azurite.sh"
keep=0
for arg in "$@"; do
  if [ "$arg" = "--keep" ]; then keep=1; fi
done
if [ "$keep" = 1 ]; then
  trap 'if [ -n "${AZURITE_STARTED_PID:-}" ]; then echo "azurite: left running (pid $AZURITE_STARTED_PID, ports ${AZURITE_BLOB_PORT}-${AZURITE_TABLE_PORT}); stop it with: kill $AZURITE_STARTED_PID"; fi' EXIT
else
  trap azurite_down EXIT
fi
azurite_up
dotnet run --project "$root/functions/ChildShare.Cli" -- demo "$@"
