// Least-privilege role assignments, all in this resource group:
//   the function app's identity: data plane of the data storage (blobs, tables, and queues for the
//   blob trigger's poison queue), the host storage the Functions runtime needs, the vault's secrets
//   (read only), and telemetry publishing (Application Insights has local auth off);
//   optionally, key administrators (Key Vault Secrets Officer: set and rotate the key), operators of
//   the command line (table and blob data of the data storage), and provider
//   upload identities, each limited by an ABAC condition to its own folder uploads/{providerId}/.
// Assignment names are guid(scope id, principal id, role id): stable across redeployments.

metadata description = 'Role assignments for the function app, key administrators and provider uploaders.'

@export()
@description('A principal that uploads for one provider: it may write, read and delete only under {uploadsContainer}/{providerId}/.')
type providerUploader = {
  @description('The provider id, the first path segment of its uploads.')
  providerId: string

  @description('The object id of the provider\'s identity (a service principal, managed identity, group or user).')
  principalId: string

  @description('The kind of principal.')
  principalType: 'ServicePrincipal' | 'Group' | 'User'
}

@export()
@description('A person, group or service principal granted a role by this module.')
type principal = {
  @description('The object id (a group is best).')
  principalId: string

  @description('The kind of principal.')
  principalType: 'ServicePrincipal' | 'Group' | 'User'
}

@description('The object id of the function app\'s system-assigned identity.')
param appPrincipalId string

@description('The data storage account\'s name.')
param dataStorageName string

@description('The host storage account\'s name.')
param hostStorageName string

@description('The Key Vault\'s name.')
param keyVaultName string

@description('The Application Insights component\'s name.')
param appInsightsName string

@description('The uploads container in the data storage account.')
param uploadsContainerName string

@description('Provider upload identities, each limited to its own folder of the uploads container.')
param providerUploaders providerUploader[] = []

@description('Principals that may set and rotate the pseudonymization key (Key Vault Secrets Officer).')
param keyAdministrators principal[] = []

@description('Operators of the command line (register-provider, save-profile, manifest): table and blob data of the data storage. Not the key: ingesting with the key is the app\'s job.')
param dataOperators principal[] = []

// Built-in role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles).
// Storage Blob Data Contributor: read, write and delete blobs and containers.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
// Storage Blob Data Owner: what the Functions host needs on AzureWebJobsStorage (and the deployment package).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
// Storage Queue Data Contributor: the blob trigger's poison queue (webjobs-blobtrigger-poison) and host queues.
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
// Storage Table Data Contributor: read and write entities, create tables.
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
// Key Vault Secrets User: read secret contents.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'
// Key Vault Secrets Officer: manage secrets (set a new version, list versions), no key or RBAC rights.
var keyVaultSecretsOfficer = 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
// Monitoring Metrics Publisher: send telemetry to Application Insights with Entra ID.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

// Limits a Storage Blob Data Contributor assignment to blobs under one folder: reads, writes and
// deletes of other blobs, and listings of other prefixes, are denied. {prefix} is replaced per provider.
var folderCondition = '''
(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND NOT SubOperationMatches{'Blob.List'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete'})
  AND
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action'})
 )
 OR
 (
  @Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path] StringStartsWith '{prefix}'
 )
)
AND
(
 (
  !(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'} AND SubOperationMatches{'Blob.List'})
 )
 OR
 (
  @Request[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:prefix] StringStartsWith '{prefix}'
 )
)
'''

resource dataStorage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: dataStorageName

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource uploads 'containers' existing = {
      name: uploadsContainerName
    }
  }
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: hostStorageName
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: keyVaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// The app on the data storage: uploads, rejects, exports, locks (the linkage lock lease) and archive; the tables; the poison queue.
var appDataRoles = [
  storageBlobDataContributor
  storageTableDataContributor
  storageQueueDataContributor
]

resource appData 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in appDataRoles: {
    name: guid(dataStorage.id, appPrincipalId, role)
    scope: dataStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

// The Functions host on AzureWebJobsStorage (leases, keys, deployment package) and its queues.
var appHostRoles = [
  storageBlobDataOwner
  storageQueueDataContributor
]

resource appHost 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in appHostRoles: {
    name: guid(hostStorage.id, appPrincipalId, role)
    scope: hostStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: appPrincipalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource appSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appPrincipalId, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appTelemetry 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appPrincipalId, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource keyAdmins 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for admin in keyAdministrators: {
    name: guid(vault.id, admin.principalId, keyVaultSecretsOfficer)
    scope: vault
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsOfficer)
      principalId: admin.principalId
      principalType: admin.principalType
    }
  }
]

resource uploaders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for uploader in providerUploaders: {
    name: guid(dataStorage::blobService::uploads.id, uploader.principalId, storageBlobDataContributor)
    scope: dataStorage::blobService::uploads
    properties: {
      description: 'Uploads for provider ${uploader.providerId}: only under ${uploadsContainerName}/${uploader.providerId}/.'
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
      principalId: uploader.principalId
      principalType: uploader.principalType
      conditionVersion: '2.0'
      condition: replace(folderCondition, '{prefix}', '${uploader.providerId}/')
    }
  }
]

var operatorDataRoles = [
  storageTableDataContributor
  storageBlobDataContributor
]

resource operatorData 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for assignment in flatten(map(dataOperators, op => map(operatorDataRoles, role => { principal: op, role: role }))): {
    name: guid(dataStorage.id, assignment.principal.principalId, assignment.role)
    scope: dataStorage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', assignment.role)
      principalId: assignment.principal.principalId
      principalType: assignment.principal.principalType
    }
  }
]
