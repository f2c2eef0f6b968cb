// Development: small and cheap. Key administrators come from the environment of whoever deploys
// (infra/DEPLOY.md sets CHILDSHARE_KEY_ADMIN_ID to the signed-in user's object id), so no
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

param keyAdministrators = empty(readEnvironmentVariable('CHILDSHARE_KEY_ADMIN_ID', ''))
  ? []
  : [
      {
        principalId: readEnvironmentVariable('CHILDSHARE_KEY_ADMIN_ID', '')
        principalType: 'User'
      }
    ]

// Provider upload identities for the dev environment, e.g.
// { providerId: 'district-north', principalId: '<object id>', principalType: 'ServicePrincipal' }
param providerUploaders = []
