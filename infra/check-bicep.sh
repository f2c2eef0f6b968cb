#!/usr/bin/env bash
# CI check of the Bicep templates: builds and lints every .bicep under infra/ and builds every
# .bicepparam, with the linter settings of infra/bicepconfig.json (security rules are errors).
# Fails on any error AND any warning: `bicep lint` exits non-zero only for error-level
# diagnostics, so the output is read too.
#
# The Bicep CLI comes from the NuGet package Azure.Bicep.CommandLine.linux-x64 at the version
# pinned in infra/tools/BicepCli.csproj, restored into infra/tools/.packages (gitignored): only the
# package registry is reached. Compiled JSON goes to a temporary folder, never into the tree.
set -euo pipefail
infra="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$infra"

bicep_version="0.49.2"
bicep="$infra/tools/.packages/azure.bicep.commandline.linux-x64/$bicep_version/tools/bicep"
if [ ! -x "$bicep" ]; then
  echo "bicep: restoring Azure.Bicep.CommandLine.linux-x64 $bicep_version"
  dotnet restore "$infra/tools/BicepCli.csproj" --nologo --verbosity quiet
  chmod +x "$bicep"
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1
"$bicep" --version

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
log="$out/diagnostics.log"
: >"$log"
status=0

run() {
  # Runs one bicep command; keeps its output; a non-zero exit fails the check.
  if ! "$bicep" "$@" >>"$log" 2>&1; then
    status=1
  fi
}

mapfile -t templates < <(find . -name '*.bicep' -not -path './tools/*' -not -path './local/*' | sort)
mapfile -t params < <(find . -name '*.bicepparam' -not -path './tools/*' -not -path './local/*' | sort)
if [ "${#templates[@]}" -eq 0 ] || [ "${#params[@]}" -eq 0 ]; then
  echo "bicep: no templates or parameter files found" >&2
  exit 1
fi

# One process per command (the CLI's start-up dominates): every template, every parameter file.
run build --pattern '**/*.bicep' --outdir "$out/templates"
run lint --pattern '**/*.bicep'
run build-params --pattern '**/*.bicepparam' --outdir "$out/params"

# Every file found must have been compiled (a pattern that matched too little would pass silently).
built="$(find "$out/templates" -name '*.json' | wc -l)"
built_params="$(find "$out/params" -name '*.json' | wc -l)"
if [ "$built" -ne "${#templates[@]}" ] || [ "$built_params" -ne "${#params[@]}" ]; then
  echo "bicep: built $built of ${#templates[@]} templates and $built_params of ${#params[@]} parameter files" >&2
  status=1
fi

# The deployment scripts at least parse.
for script in "$infra"/scripts/*.sh; do
  if ! bash -n "$script" 2>>"$log"; then
    echo "$script(1,1) : Error bash: does not parse" >>"$log"
  fi
done

# Diagnostics read: path(line,col) : Warning|Error|Info CODE: message
# (A module's diagnostics appear once per command that compiles it: count each line once.)
sort -u "$log" | sed "s|$infra/|infra/|" >"$out/unique.log"
cat "$out/unique.log"
warnings="$(grep -cE ' : Warning ' "$out/unique.log" || true)"
errors="$(grep -cE ' : Error ' "$out/unique.log" || true)"
echo "bicep: ${#templates[@]} templates built and linted, ${#params[@]} parameter files built; ${errors} errors, ${warnings} warnings"
if [ "$status" -ne 0 ] || [ "$errors" -ne 0 ] || [ "$warnings" -ne 0 ]; then
  echo "bicep: FAILED (any warning or error fails the check)" >&2
  exit 1
fi
