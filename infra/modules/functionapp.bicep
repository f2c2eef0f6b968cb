// The function app on the Flex Consumption plan (FC1): .NET isolated, a system-assigned managed
// identity, the deployment package in a host-storage container read with that identity, basic
// (publishing) authentication off, App Service Authentication (Entra ID) when a client id is given,
// and its logs to Log Analytics. The app settings come from the caller as one object (main.bicep's
// appSettings), so there is one place to add a setting.

metadata description = 'Flex Consumption plan and function app with a system-assigned identity.'

@description('The function app name (also its host name: {name}.azurewebsites.net).')
@minLength(2)
@maxLength(60)
param name string

@description('The Flex Consumption plan name.')
param planName string

@description('The Azure region (one where Flex Consumption is offered).')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('The host storage blob endpoint, e.g. https://{account}.blob.core.windows.net/.')
param deploymentStorageBlobEndpoint string

@description('The host storage container that holds the deployment package.')
param deploymentContainerName string

@description('The worker runtime of functionAppConfig.runtime (replaces FUNCTIONS_WORKER_RUNTIME on Flex Consumption).')
param runtimeName string = 'dotnet-isolated'

@description('The runtime version: the target framework of functions/ChildShare.Functions.')
param runtimeVersion string = '10.0'

@description('The most instances the app scales out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('App settings as name/value pairs (all values strings).')
param appSettings object

@description('The Log Analytics workspace that receives FunctionAppLogs.')
param logAnalyticsWorkspaceId string

@description('Entra ID sign-in: the client id of the app registration whose tokens App Service Authentication accepts. Empty turns App Service Authentication off.')
param entraClientId string = ''

@description('The Entra tenant that issues those tokens.')
param entraTenantId string

@description('Token audiences accepted besides the client id (always accepted: the audience of v2 tokens) and api://{client id}: e.g. a custom domain of the tenant that Power BI calls.')
param entraAllowedAudiences string[] = []

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      http20Enabled: true
      appSettings: [for setting in items(appSettings): { name: setting.key, value: setting.value }]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${deploymentStorageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'SystemAssignedIdentity'
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: runtimeName
        version: runtimeVersion
      }
    }
  }
}

// Deployments authenticate with Entra ID (az login); publishing user names and passwords are refused.
// (Flex Consumption has no FTP, so there is no 'ftp' policy to set.)
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { category: 'FunctionAppLogs', enabled: true }
    ]
  }
}

// App Service Authentication (Easy Auth), always deployed so that clearing entraClientId really turns
// it off. It validates Entra ID bearer tokens and passes the caller to the app as X-MS-CLIENT-PRINCIPAL
// (a header external requests cannot set while it is on); requests without a token still reach the
// app (AllowAnonymous), which itself refuses any caller without an API key or a mapped principal.
// No token store and no client secret: the app only needs the validated principal.
var entraEnabled = !empty(entraClientId)

resource authSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: entraEnabled
      runtimeVersion: '~1'
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
      forwardProxy: {
        convention: 'NoProxy'
      }
    }
    identityProviders: entraEnabled
      ? {
          azureActiveDirectory: {
            enabled: true
            registration: {
              clientId: entraClientId
              openIdIssuer: '${environment().authentication.loginEndpoint}${entraTenantId}/v2.0'
            }
            validation: {
              allowedAudiences: union(['api://${entraClientId}'], entraAllowedAudiences)
            }
            login: {
              disableWWWAuthenticate: false
            }
          }
        }
      : {}
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

@description('The function app\'s resource id.')
output id string = site.id

@description('The function app\'s name.')
output name string = site.name

@description('The function app\'s default host name.')
output defaultHostName string = site.properties.defaultHostName

@description('The object id of the app\'s system-assigned identity, for role assignments.')
output principalId string = site.identity.principalId
