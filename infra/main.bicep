// ChildShare in one resource group: data storage, host storage, the function app on Flex
// Consumption, Key Vault for the pseudonymization key, Event Grid for the blob trigger, monitoring,
// and least-privilege role assignments. Deploy with a parameter file per environment
// (main.dev.bicepparam, main.prod.bicepparam); the steps are in infra/DEPLOY.md.

targetScope = 'resourceGroup'

metadata description = 'ChildShare: storage, Flex Consumption function app, Key Vault, Event Grid, monitoring and RBAC.'

import { providerUploader, principal } from 'modules/rbac.bicep'

@description('The environment: part of every name and tag.')
@allowed([
  'dev'
  'prod'
])
param environmentName string

@description('The workload name: part of every name.')
@minLength(2)
@maxLength(10)
param workload string = 'childshare'

@description('The Azure region (one where Flex Consumption is offered). Defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Tags added to every resource.')
param tags object = {}

@description('Replication of the data storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
  'Standard_GZRS'
  'Standard_RAGZRS'
])
param dataStorageSku string = 'Standard_LRS'

@description('Days deleted data blobs and containers are kept.')
@minValue(1)
@maxValue(365)
param dataDeleteRetentionDays int = 7

@description('Days Log Analytics keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('The most instances the function app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('The Key Vault secret that holds the pseudonymization key (set by an operator, never by a template).')
param pseudonymizationSecretName string = 'pseudonymization-key'

@description('Principals that may set and rotate the pseudonymization key (Key Vault Secrets Officer).')
param keyAdministrators principal[] = []

@description('Operators of the command line: table and blob data of the data storage (Storage Table and Blob Data Contributor).')
param dataOperators principal[] = []

@description('Provider upload identities, each limited to its own folder of the uploads container.')
param providerUploaders providerUploader[] = []

@description('Per-environment values that replace entries of appSettings (same names); not for secrets. The Entra ID caller settings cannot be overridden: they follow entraClientId.')
param appSettingOverrides object = {}

@description('Entra ID sign-in for callers (Power BI with an organizational account, scripts with a token): the client id of the app registration whose tokens App Service Authentication accepts. Empty: App Service Authentication is off and callers use API keys only.')
param entraClientId string = ''

@description('The Entra tenant that issues those tokens. Empty: the tenant of the deployment.')
param entraTenantId string = ''

@description('Token audiences App Service Authentication accepts besides the client id and api://{client id}: e.g. https://childshare.contoso.org, a custom domain of the tenant in front of the app, which is the base URL Power BI asks a token for (infra/DEPLOY.md).')
param entraAllowedAudiences string[] = []

@description('The public address parent links start with (ParentLink__BaseUrl): the app\'s default host name, or a custom domain in front of it.')
param parentLinkBaseUrl string = ''

var abbrs = loadJsonContent('abbreviations.json')
var token = uniqueString(subscription().id, resourceGroup().id, workload, environmentName)
var functionAppName = '${abbrs.functionApp}${workload}-${environmentName}-${token}'
var allTags = union(tags, { workload: workload, environment: environmentName })

// Containers of the data storage account. uploads, rejects, exports and locks are read from the
// Storage__*Container settings below; archive keeps processed uploads (not yet written by the code).
// locks holds the linkage lock blob, leased by the instance that links (outside uploads, so the
// Event Grid subscription never sees it).
var containers = {
  uploads: 'uploads'
  rejects: 'rejects'
  exports: 'exports'
  locks: 'locks'
  archive: 'archive'
  disclosures: 'disclosures'
}

// The logical tables of ChildShare.Core.Storage.TableNames (Storage__TablePrefix is '' in Azure).
// The code creates any table it lacks; listing them here makes them part of the environment.
var tables = [
  'providers'
  'manifests'
  'identities'
  'records'
  'children'
  'activity'
  'uploadstaging'
  'agreements'
  'principals'
  'apikeys'
  'audit'
  'consents'
  'consentchildren'
  'consentexpiry'
  'consentsources'
  'parentlinks'
  'parentlinkrate'
  'consentdisclosures'
  // ChildShare.Core.Linkage.LinkageTables: encodings, the token index (blocks), cluster membership, do-not-link constraints.
  'linkrecords'
  'linkblocks'
  'linkmembers'
  'linkconstraints'
]

// The blob trigger's poison queue, on the trigger's connection (ChildShareStorage).
var queues = [
  'webjobs-blobtrigger-poison'
]

var deploymentContainerName = 'app-package'

// Entra ID sign-in: one parameter (entraClientId) turns App Service Authentication on in the function
// app module AND makes the app trust the principal header it passes, so the two cannot disagree
// (tests/ChildShare.Tests/Infrastructure/EntraTemplateTests.cs checks the compiled template). These
// settings are applied after appSettingOverrides, so no override trusts the header on its own.
var entraEnabled = !empty(entraClientId)
var entraTenant = empty(entraTenantId) ? tenant().tenantId : entraTenantId
var entraSettings = {
  Callers__TrustClientPrincipalHeader: entraEnabled ? 'true' : 'false'
  Callers__EntraAuthority: entraEnabled ? '${environment().authentication.loginEndpoint}${entraTenant}' : ''
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: '${abbrs.logAnalyticsWorkspace}${workload}-${environmentName}'
    appInsightsName: '${abbrs.appInsights}${workload}-${environmentName}'
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module dataStorage 'modules/storage.bicep' = {
  name: 'data-storage'
  params: {
    name: '${abbrs.storageAccount}data${token}'
    location: location
    tags: allTags
    skuName: dataStorageSku
    allowSharedKeyAccess: false
    containers: map(items(containers), c => c.value)
    tables: tables
    queues: queues
    deleteRetentionDays: dataDeleteRetentionDays
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module hostStorage 'modules/storage.bicep' = {
  name: 'host-storage'
  params: {
    name: '${abbrs.storageAccount}host${token}'
    location: location
    tags: allTags
    allowSharedKeyAccess: false
    containers: [
      deploymentContainerName
    ]
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  params: {
    name: take('${abbrs.keyVault}${workload}-${token}', 24)
    location: location
    tags: allTags
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'event-grid'
  params: {
    name: '${abbrs.eventGridSystemTopic}${dataStorage.outputs.name}'
    location: location
    tags: allTags
    storageAccountId: dataStorage.outputs.id
  }
}

// ---------------------------------------------------------------------------------------------
// The function app's settings: the one place to add one. Names are those of
// local.settings.sample.json, in their Azure form (identity-based connections instead of
// connection strings); tests/ChildShare.Tests/Infrastructure/AppSettingsSyncTests.cs checks that
// every setting of the sample and of the code's options is here. Values are strings.
// FUNCTIONS_WORKER_RUNTIME is not set: Flex Consumption takes the runtime from functionAppConfig.
// Pseudonymization__LocalKey and __LocalKeyVersion must never be set in Azure.
// ---------------------------------------------------------------------------------------------
var appSettings = {
  // Functions host storage (locally AzureWebJobsStorage=UseDevelopmentStorage=true).
  AzureWebJobsStorage__accountName: hostStorage.outputs.name
  AzureWebJobsStorage__credential: 'managedidentity'

  // Telemetry with Entra ID (the component's local auth is off).
  APPLICATIONINSIGHTS_CONNECTION_STRING: monitoring.outputs.appInsightsConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD'

  // ChildShare's data storage: the blob trigger's connection and StorageClientFactory's
  // (locally ChildShareStorage=UseDevelopmentStorage=true). The queue is the trigger's poison queue.
  ChildShareStorage__blobServiceUri: dataStorage.outputs.blobEndpoint
  ChildShareStorage__tableServiceUri: dataStorage.outputs.tableEndpoint
  ChildShareStorage__queueServiceUri: dataStorage.outputs.queueEndpoint
  ChildShareStorage__credential: 'managedidentity'

  // StorageOptions
  Storage__TablePrefix: ''
  Storage__UploadsContainer: containers.uploads
  Storage__RejectsContainer: containers.rejects
  Storage__ExportsContainer: containers.exports
  Storage__LocksContainer: containers.locks
  Storage__DisclosuresContainer: containers.disclosures

  // PseudonymizationOptions: the key is the current version of a Key Vault secret.
  Pseudonymization__KeySource: 'KeyVault'
  Pseudonymization__KeyVaultUri: keyVault.outputs.uri
  Pseudonymization__SecretName: pseudonymizationSecretName

  // IngestionOptions
  Ingestion__MinChildAgeYears: '0'
  Ingestion__MaxChildAgeYears: '25'
  Ingestion__MaxAttempts: '5'
  Ingestion__MaxBufferedEntities: '5000'
  // LinkageOptions: the cross-instance linkage lock (a blob lease in the locks container), see LINKAGE.md.
  Linkage__LockLeaseSeconds: '60'
  Linkage__LockTimeoutSeconds: '1800'
  Linkage__RowCacheLimit: '400000'
  // Trust X-MS-CLIENT-PRINCIPAL exactly when App Service Authentication (Entra ID) is on (entraSettings
  // above); the app also checks the platform's WEBSITE_AUTH_ENABLED before believing the header.
  Callers__TrustClientPrincipalHeader: entraSettings.Callers__TrustClientPrincipalHeader
  Callers__EntraAuthority: entraSettings.Callers__EntraAuthority
  Callers__DefaultApiKeyDays: '365'
  Deidentification__InlineRowLimit: '50000'
  Deidentification__LinkMinutes: '15'
  // Parent consent (functions/ChildShare.Core/Sharing/Identifiable/CONSENT.md): the expiry timer's NCRONTAB schedule (hourly), the renewal window, the cap on a consent's length.
  Consent__ExpirySchedule: '0 0 * * * *'
  Consent__RenewalWindowDays: '30'
  Consent__MaxConsentDays: '365'
  Consent__ExpiryParallelism: '8'
  // The parent's signed-link page (CONSENT.md): where links point, how long they last, the hourly limits per link and per client.
  ParentLink__BaseUrl: empty(parentLinkBaseUrl) ? 'https://${functionAppName}.azurewebsites.net' : parentLinkBaseUrl
  ParentLink__LinkDays: '30'
  ParentLink__RequestsPerLinkPerHour: '60'
  ParentLink__RequestsPerClientPerHour: '120'
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'function-app'
  params: {
    name: functionAppName
    planName: '${abbrs.functionAppPlan}${workload}-${environmentName}'
    location: location
    tags: allTags
    deploymentStorageBlobEndpoint: hostStorage.outputs.blobEndpoint
    deploymentContainerName: deploymentContainerName
    maximumInstanceCount: maximumInstanceCount
    appSettings: union(appSettings, appSettingOverrides, entraSettings)
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    entraClientId: entraClientId
    entraTenantId: entraTenant
    entraAllowedAudiences: entraAllowedAudiences
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    appPrincipalId: functionApp.outputs.principalId
    dataStorageName: dataStorage.outputs.name
    hostStorageName: hostStorage.outputs.name
    keyVaultName: keyVault.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    uploadsContainerName: containers.uploads
    providerUploaders: providerUploaders
    keyAdministrators: keyAdministrators
    dataOperators: dataOperators
  }
}

@description('The function app\'s name.')
output functionAppName string = functionApp.outputs.name

@description('The function app\'s host name.')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Whether App Service Authentication (Entra ID) is on, and so whether the app trusts X-MS-CLIENT-PRINCIPAL.')
output entraSignInEnabled bool = entraEnabled

@description('The data storage account\'s name.')
output dataStorageAccountName string = dataStorage.outputs.name

@description('ChildShareStorage__blobServiceUri, for the operator command line.')
output dataBlobServiceUri string = dataStorage.outputs.blobEndpoint

@description('ChildShareStorage__tableServiceUri, for the operator command line.')
output dataTableServiceUri string = dataStorage.outputs.tableEndpoint

@description('The host storage account\'s name.')
output hostStorageAccountName string = hostStorage.outputs.name

@description('The Key Vault\'s name.')
output keyVaultName string = keyVault.outputs.name

@description('The Key Vault\'s URI.')
output keyVaultUri string = keyVault.outputs.uri

@description('The secret that holds the pseudonymization key.')
output pseudonymizationSecretName string = pseudonymizationSecretName

@description('The Event Grid system topic of the data storage account, for the post-deploy subscription.')
output eventGridSystemTopicName string = eventGrid.outputs.name

@description('The uploads container, for the post-deploy subscription.')
output uploadsContainerName string = containers.uploads
