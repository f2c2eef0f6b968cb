// The Event Grid system topic of the data storage account. The blob trigger's Event Grid source
// (the only one Flex Consumption supports) needs it; its subscription for the uploads container is
// created after the code is deployed, when the blobs_extension system key exists
// (infra/uploads-subscription.bicep, run by infra/scripts/post-deploy.sh).

metadata description = 'Event Grid system topic for a storage account.'

@description('The system topic name.')
param name string

@description('The Azure region (the storage account\'s).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('The resource id of the storage account whose events the topic publishes.')
param storageAccountId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('The system topic\'s resource id.')
output id string = systemTopic.id

@description('The system topic\'s name, for the post-deploy subscription.')
output name string = systemTopic.name
