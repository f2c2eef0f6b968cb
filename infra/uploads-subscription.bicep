// Post-deploy: the Event Grid subscription that feeds the blob trigger of IngestProviderUpload.
// Deploy it after the code (infra/scripts/post-deploy.sh does): its webhook needs the
// blobs_extension system key, which the Functions host creates only once it runs a blob trigger
// with the Event Grid source. The key is read here with listKeys and is never output or stored
// in a file. Event Grid validates the endpoint when the subscription is created.

targetScope = 'resourceGroup'

metadata description = 'Event Grid subscription of the uploads container to the blob trigger webhook.'

@description('The function app\'s name (main.bicep output functionAppName).')
param functionAppName string

@description('The data storage account\'s Event Grid system topic (main.bicep output eventGridSystemTopicName).')
param systemTopicName string

@description('The uploads container (main.bicep output uploadsContainerName).')
param uploadsContainerName string = 'uploads'

@description('The blob-triggered function (Host.Functions.{name} in the webhook).')
param functionName string = 'IngestProviderUpload'

@description('The subscription\'s name.')
param subscriptionName string = 'uploads-to-${functionName}'

resource site 'Microsoft.Web/sites@2024-11-01' existing = {
  name: functionAppName
}

// The host's keys (Microsoft.Web/sites/host has no Bicep type, so it is addressed by id).
var blobsExtensionKey = listKeys('${site.id}/host/default', '2024-11-01').systemKeys.blobs_extension

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource uploads 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: subscriptionName
  properties: {
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${site.properties.defaultHostName}/runtime/webhooks/blobs?functionName=Host.Functions.${functionName}&code=${blobsExtensionKey}'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${uploadsContainerName}/blobs/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
  }
}

@description('The subscription\'s resource id.')
output id string = uploads.id
