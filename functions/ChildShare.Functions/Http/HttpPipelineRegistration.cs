using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Functions.Http;

public static class HttpPipelineRegistration
{
    /// <summary>Registers <see cref="HttpPipeline"/>, which the function app's middleware and the local host's dispatcher both run.</summary>
    public static IServiceCollection AddChildShareHttpPipeline(this IServiceCollection services)
    {
        services.TryAddSingleton<HttpPipeline>();
        return services;
    }
}
