#!/usr/bin/env bash
# Local runs only: Azurite raises no Event Grid events, so this posts the BlobCreated event Event
# Grid would send for one blob of the uploads container to the blob extension's webhook of a
# `func start` on this machine, and the blob trigger of IngestProviderUpload runs as in Azure.
#
#   infra/scripts/local-blob-created.sh <blob path inside uploads, e.g. district-north/file.csv> [host:port]
#
# (Without Core Tools, or for everything pending at once, the command line's `ingest-pending`
# does the same work: dotnet run --project functions/ChildShare.Cli -- ingest-pending.)
set -euo pipefail

blob="${1:?usage: local-blob-created.sh <blob path inside uploads> [host:port]}"
endpoint="${2:-localhost:7071}"
container="${UPLOADS_CONTAINER:-uploads}"
account_url="http://127.0.0.1:10000/devstoreaccount1"
now="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
id="$(cat /proc/sys/kernel/random/uuid 2>/dev/null || echo "local-$(date +%s%N)")"

curl --silent --show-error --fail-with-body \
  --header "Content-Type: application/json" \
  --header "aeg-event-type: Notification" \
  --data @- \
  "http://$endpoint/runtime/webhooks/blobs?functionName=Host.Functions.IngestProviderUpload" <<JSON
[
  {
    "topic": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
    "subject": "/blobServices/default/containers/$container/blobs/$blob",
    "eventType": "Microsoft.Storage.BlobCreated",
    "id": "$id",
    "eventTime": "$now",
    "dataVersion": "",
    "metadataVersion": "1",
    "data": {
      "api": "PutBlob",
      "clientRequestId": "$id",
      "requestId": "$id",
      "eTag": "0x0",
      "contentType": "application/octet-stream",
      "contentLength": 0,
      "blobType": "BlockBlob",
      "url": "$account_url/$container/$blob",
      "sequencer": "0",
      "storageDiagnostics": { "batchId": "$id" }
    }
  }
]
JSON
echo "posted BlobCreated for $container/$blob to http://$endpoint"
