#!/usr/bin/env bash
# Local Azure Storage for ChildShare: installs the pinned Azurite (package-lock.json) and starts it
# in memory on 127.0.0.1:10000-10002, unless an Azurite (or any storage emulator) already listens.
#
#   source infra/local/azurite.sh; azurite_up    # start when needed; sets AZURITE_STARTED_PID
#   azurite_down                                 # stops only what azurite_up started
set -euo pipefail

AZURITE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
AZURITE_STARTED_PID=""

azurite_listening() {
  (exec 3<>/dev/tcp/127.0.0.1/10000) 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/10002) 2>/dev/null
}

azurite_up() {
  if azurite_listening; then
    echo "azurite: already listening on 127.0.0.1:10000-10002; using it"
    return 0
  fi
  if [ ! -x "$AZURITE_DIR/node_modules/.bin/azurite" ]; then
    echo "azurite: installing the pinned version (npm ci)"
    (cd "$AZURITE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local log="${TMPDIR:-/tmp}/childshare-azurite.log"
  node "$AZURITE_DIR/node_modules/azurite/dist/src/azurite.js" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry --silent >"$log" 2>&1 &
  AZURITE_STARTED_PID=$!
  for _ in $(seq 1 100); do
    if azurite_listening; then
      echo "azurite: started (pid $AZURITE_STARTED_PID)"
      return 0
    fi
    if ! kill -0 "$AZURITE_STARTED_PID" 2>/dev/null; then
      echo "azurite: failed to start; its log follows" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.2
  done
  echo "azurite: did not listen within 20 s" >&2
  return 1
}

azurite_down() {
  if [ -n "${AZURITE_STARTED_PID:-}" ] && kill -0 "$AZURITE_STARTED_PID" 2>/dev/null; then
    kill "$AZURITE_STARTED_PID" 2>/dev/null || true
    wait "$AZURITE_STARTED_PID" 2>/dev/null || true
    echo "azurite: stopped"
  fi
  AZURITE_STARTED_PID=""
}
