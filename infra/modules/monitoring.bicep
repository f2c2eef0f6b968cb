// Log Analytics and workspace-based Application Insights. Local (instrumentation key) authentication
// is off: the function app sends telemetry with its managed identity (Monitoring Metrics Publisher).

metadata description = 'Log Analytics workspace and Application Insights.'

@description('The Log Analytics workspace name.')
param workspaceName string

@description('The Application Insights component name.')
param appInsightsName string

@description('The Azure region.')
param location string

@description('Tags for every resource.')
param tags object = {}

@description('Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      enableLogAccessUsingOnlyResourcePermissions: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    IngestionMode: 'LogAnalytics'
  }
}

@description('The Log Analytics workspace\'s resource id, for diagnostic settings.')
output workspaceId string = workspace.id

@description('The Application Insights component\'s resource id, for role assignments.')
output appInsightsId string = appInsights.id

@description('The Application Insights component\'s name.')
output appInsightsName string = appInsights.name

@description('The connection string the function app sends telemetry with (not a secret: local auth is off).')
output appInsightsConnectionString string = appInsights.properties.ConnectionString
