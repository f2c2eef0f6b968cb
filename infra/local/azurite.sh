#!/usr/bin/env bash
# Local Azure Storage for ChildShare: installs the pinned Azurite (package-lock.json) and starts it in
# memory on 127.0.0.1. The ports come from one setting, CHILDSHARE_AZURITE_PORT (blob; queue and table
# are the next two; default 10000), which the tests, `childshare serve` and the command line read too.
# An emulator this script did not start is never used silently: when the ports are taken it stops,
# unless CHILDSHARE_AZURITE_REUSE=1 says to use what listens there.
#
#   source infra/local/azurite.sh; azurite_up    # start (or, when told, reuse); exports the connection strings
#   azurite_down                                 # stops only what azurite_up started
set -euo pipefail

AZURITE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
AZURITE_STARTED_PID=""

azurite_ports() {
  AZURITE_BLOB_PORT="${CHILDSHARE_AZURITE_PORT:-10000}"
  AZURITE_QUEUE_PORT=$((AZURITE_BLOB_PORT + 1))
  AZURITE_TABLE_PORT=$((AZURITE_BLOB_PORT + 2))
}

azurite_listening() {
  azurite_ports
  (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_BLOB_PORT") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$AZURITE_TABLE_PORT") 2>/dev/null
}

azurite_any_port_taken() {
  azurite_ports
  local port
  for port in "$AZURITE_BLOB_PORT" "$AZURITE_QUEUE_PORT" "$AZURITE_TABLE_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
  done
  return 1
}

# The connection string of the emulator on these ports (Azurite's published development account).
azurite_export() {
  azurite_ports
  local account="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
  export ChildShareStorage="$account;BlobEndpoint=http://127.0.0.1:$AZURITE_BLOB_PORT/devstoreaccount1;QueueEndpoint=http://127.0.0.1:$AZURITE_QUEUE_PORT/devstoreaccount1;TableEndpoint=http://127.0.0.1:$AZURITE_TABLE_PORT/devstoreaccount1;"
  export CHILDSHARE_TEST_STORAGE="$ChildShareStorage"
}

azurite_up() {
  azurite_ports
  if azurite_any_port_taken; then
    if [ "${CHILDSHARE_AZURITE_REUSE:-}" = "1" ] && azurite_listening; then
      echo "azurite: using the emulator already on 127.0.0.1:$AZURITE_BLOB_PORT-$AZURITE_TABLE_PORT (CHILDSHARE_AZURITE_REUSE=1)"
      azurite_export
      return 0
    fi
    echo "azurite: 127.0.0.1:$AZURITE_BLOB_PORT-$AZURITE_TABLE_PORT is in use by something this script did not start." >&2
    echo "  Stop it, pick free ports with CHILDSHARE_AZURITE_PORT=<blob port>, or set CHILDSHARE_AZURITE_REUSE=1 to use it as it is." >&2
    return 1
  fi
  if [ ! -x "$AZURITE_DIR/node_modules/.bin/azurite" ]; then
    echo "azurite: installing the pinned version (npm ci)"
    (cd "$AZURITE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  local log="${TMPDIR:-/tmp}/childshare-azurite-$AZURITE_BLOB_PORT.log"
  node "$AZURITE_DIR/node_modules/azurite/dist/src/azurite.js" \
    --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
    --blobPort "$AZURITE_BLOB_PORT" --queuePort "$AZURITE_QUEUE_PORT" --tablePort "$AZURITE_TABLE_PORT" \
    --inMemoryPersistence --skipApiVersionCheck --disableTelemetry --silent >"$log" 2>&1 &
  AZURITE_STARTED_PID=$!
  for _ in $(seq 1 100); do
    if azurite_listening; then
      echo "azurite: started on 127.0.0.1:$AZURITE_BLOB_PORT-$AZURITE_TABLE_PORT (pid $AZURITE_STARTED_PID)"
      azurite_export
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
