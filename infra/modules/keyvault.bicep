// Key Vault for the pseudonymization key: RBAC authorization (no access policies), soft delete,
// purge protection, and audit logs to Log Analytics. The template creates no secret: the key is
// generated and set by an operator (infra/DEPLOY.md), so no key material is ever in a template,
// a parameter file or a deployment's history.

metadata description = 'Key Vault with RBAC authorization, soft delete, purge protection and diagnostic settings.'

@description('The vault name: 3 to 24 letters, digits and dashes, globally unique.')
@minLength(3)
@maxLength(24)
param name string

@description('The Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Days a deleted vault or secret can be recovered (purge protection forbids an earlier purge).')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('The Log Analytics workspace that receives the audit logs.')
param logAnalyticsWorkspaceId string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { categoryGroup: 'audit', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

@description('The vault\'s resource id.')
output id string = vault.id

@description('The vault\'s name.')
output name string = vault.name

@description('The vault URI, e.g. https://{name}.vault.azure.net/ (Pseudonymization__KeyVaultUri).')
output uri string = vault.properties.vaultUri
