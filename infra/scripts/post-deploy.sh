#!/usr/bin/env bash
# Post-deploy: subscribes the blob trigger of IngestProviderUpload to BlobCreated events of the
# uploads container, through the data storage account's Event Grid system topic.
#
#   infra/scripts/post-deploy.sh <resource-group> [main-deployment-name]
#
# Run it after the code is deployed (infra/DEPLOY.md, step 5): the webhook needs the
# blobs_extension system key, which the Functions host creates only once it runs the blob trigger
# with the Event Grid source. The key never reaches this shell: infra/uploads-subscription.bicep
# reads it with listKeys inside the deployment. Safe to run again (the deployment is idempotent).
# Needs: az (logged in, with Contributor on the resource group).
set -euo pipefail
infra="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

rg="${1:?usage: post-deploy.sh <resource-group> [main-deployment-name]}"
deployment="${2:-main}"

output() {
  az deployment group show --resource-group "$rg" --name "$deployment" \
    --query "properties.outputs.$1.value" --output tsv
}

app="$(output functionAppName)"
topic="$(output eventGridSystemTopicName)"
container="$(output uploadsContainerName)"
echo "post-deploy: app $app, system topic $topic, container $container"

# The host creates the key when it starts with the code deployed; asking for the keys starts it.
echo "post-deploy: waiting for the blobs_extension system key"
for attempt in $(seq 1 30); do
  present="$(az functionapp keys list --resource-group "$rg" --name "$app" \
    --query "contains(keys(systemKeys || \`{}\`), 'blobs_extension')" --output tsv 2>/dev/null || true)"
  if [ "$present" = "true" ]; then
    break
  fi
  if [ "$attempt" -eq 30 ]; then
    echo "post-deploy: no blobs_extension key after 5 minutes: is the code deployed (DEPLOY.md step 4), and does 'az functionapp function list -g $rg -n $app' show IngestProviderUpload?" >&2
    exit 1
  fi
  sleep 10
done

echo "post-deploy: creating the Event Grid subscription (Event Grid validates the webhook)"
az deployment group create --resource-group "$rg" --name uploads-subscription \
  --template-file "$infra/uploads-subscription.bicep" \
  --parameters functionAppName="$app" systemTopicName="$topic" uploadsContainerName="$container" \
  --output none

az eventgrid system-topic event-subscription show --resource-group "$rg" --system-topic-name "$topic" \
  --name "uploads-to-IngestProviderUpload" --query "{name: name, state: provisioningState, subject: filter.subjectBeginsWith}" --output table
