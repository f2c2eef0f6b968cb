// Development: small and cheap. The administrator comes from the environment of whoever deploys
// (infra/DEPLOY.md sets CHILDSHARE_ADMIN_ID to the signed-in user's object id), so no
// object id is checked in. No secret belongs in this file: the key is set in Key Vault directly.
using 'main.bicep'

param environmentName = 'dev'

param tags = {
  costCenter: 'childshare-dev'
}

param dataStorageSku = 'Standard_LRS'
param dataDeleteRetentionDays = 7
param logRetentionInDays = 30
param maximumInstanceCount = 10

// The administrators: key administration (Key Vault Secrets Officer) and the operator command line
// (table and blob data). Taken from the environment of whoever deploys, so no object id is checked in.
var admins = empty(readEnvironmentVariable('CHILDSHARE_ADMIN_ID', ''))
  ? []
  : [
      {
        principalId: readEnvironmentVariable('CHILDSHARE_ADMIN_ID', '')
        principalType: 'User'
      }
    ]

param keyAdministrators = admins
param dataOperators = admins

// Provider upload identities for the dev environment, e.g.
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
