#!/usr/bin/env bash
# README command 1: ChildShare's ingestion end to end on Azurite with the sample providers.
# Starts Azurite when none runs, creates the containers and tables, registers the three sample
# providers with their mapping profiles, uploads their files and ingests them through the same
# code path as the blob trigger, then prints every manifest. Stops Azurite if it started it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$root/infra/local/azurite.sh"
trap azurite_down EXIT
azurite_up
dotnet run --project "$root/functions/ChildShare.Cli" -- demo "$@"
