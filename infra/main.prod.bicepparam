// Production: zone-redundant data, longer retention. Key administration is a group's
// (CHILDSHARE_ADMIN_GROUP_ID: the object id of the Entra group of ChildShare administrators), so no
// one person's access is in the template. No secret belongs in this file.
using 'main.bicep'

param environmentName = 'prod'

param tags = {
  costCenter: 'childshare-prod'
  dataClassification: 'confidential'
}

param dataStorageSku = 'Standard_ZRS'
param dataDeleteRetentionDays = 30
param logRetentionInDays = 90
param maximumInstanceCount = 40

// The administrators' group: key administration (Key Vault Secrets Officer) and the operator command
// line (table and blob data). Taken from the environment of whoever deploys.
var admins = empty(readEnvironmentVariable('CHILDSHARE_ADMIN_GROUP_ID', ''))
  ? []
  : [
      {
        principalId: readEnvironmentVariable('CHILDSHARE_ADMIN_GROUP_ID', '')
        principalType: 'Group'
      }
    ]

param keyAdministrators = admins
param dataOperators = admins

// One entry per provider that uploads with its own identity, limited to uploads/{providerId}/:
// { providerId: 'district-north', principalId: '<object id>', principalType: 'ServicePrincipal' }
param providerUploaders = []

// Entra ID sign-in (App Service Authentication) for callers such as Power BI with an organizational
// account: the client id of the app registration (infra/DEPLOY.md, "Entra ID callers"), optionally its
// tenant and one more token audience (the custom domain Power BI calls), from the environment of whoever
// deploys. Unset: Entra ID sign-in is off, the app does not trust X-MS-CLIENT-PRINCIPAL, and callers use
// API keys.
param entraClientId = readEnvironmentVariable('CHILDSHARE_ENTRA_CLIENT_ID', '')
param entraTenantId = readEnvironmentVariable('CHILDSHARE_ENTRA_TENANT_ID', '')
param entraAllowedAudiences = empty(readEnvironmentVariable('CHILDSHARE_ENTRA_AUDIENCE', ''))
  ? []
  : [
      readEnvironmentVariable('CHILDSHARE_ENTRA_AUDIENCE', '')
    ]
