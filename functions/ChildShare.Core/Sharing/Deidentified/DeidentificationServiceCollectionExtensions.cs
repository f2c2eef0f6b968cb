using ChildShare.Core.Activity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Sharing.Deidentified;

/// <summary>Registers the de-identified export.</summary>
public static class DeidentificationServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareDeidentification(this IServiceCollection services)
    {
        services.AddOptions<DeidentificationOptions>().BindConfiguration(DeidentificationOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<IExportLinkIssuer, BlobExportLinkIssuer>();
        services.TryAddSingleton<DeidentifiedExportService>();
        return services;
    }
}
