using Microsoft.Extensions.Configuration;

namespace ChildShare.Core.Callers;

/// <summary>
/// Whether App Service Authentication (Easy Auth) runs in front of this app, as the platform says.
/// App Service injects <c>WEBSITE_AUTH_ENABLED</c> ("Read-only. Injected into a Windows or Linux app
/// to indicate whether App Service authentication is enabled", App Service's app settings reference),
/// and on Flex Consumption the Functions host turns its own Easy Auth middleware on from the same
/// variable, so it is true exactly where the platform handles <c>X-MS-CLIENT-PRINCIPAL</c> (external
/// requests cannot set that header there). The worker inherits the host's environment.
/// The template never sets it as an app setting (a test checks); setting it by hand defeats the check.
/// </summary>
public class AppServiceAuthentication(IConfiguration configuration)
{
    public const string EnabledVariable = "WEBSITE_AUTH_ENABLED";

    public virtual bool IsEnabled => bool.TryParse(configuration[EnabledVariable], out var enabled) && enabled;
}
