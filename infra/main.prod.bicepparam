// Production: zone-redundant data, longer retention. Key administration is a group's
// (CHILDSHARE_KEY_ADMIN_GROUP_ID: the object id of the Entra group of key administrators), so no
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

param keyAdministrators = empty(readEnvironmentVariable('CHILDSHARE_KEY_ADMIN_GROUP_ID', ''))
  ? []
  : [
      {
        principalId: readEnvironmentVariable('CHILDSHARE_KEY_ADMIN_GROUP_ID', '')
        principalType: 'Group'
      }
    ]

// One entry per provider that uploads with its own identity, limited to uploads/{providerId}/:
// { providerId: 'district-north', principalId: '<object id>', principalType: 'ServicePrincipal' }
param providerUploaders = []
