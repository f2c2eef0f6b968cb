using ChildShare.Core.Sharing.Identifiable.Parent;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>Registers the consent store, life cycle, owners' authorizations, expiry job, identifiable report and the parent's page.</summary>
public static class ConsentServiceCollectionExtensions
{
    public static IServiceCollection AddChildShareConsent(this IServiceCollection services)
    {
        services.AddOptions<ConsentOptions>().BindConfiguration(ConsentOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ConsentTables>();
        services.TryAddSingleton<ConsentStore>();
        services.TryAddSingleton<ConsentService>();
        services.TryAddSingleton<ConsentExpiryJob>();
        services.TryAddSingleton<ChildRecordReader>();
        services.TryAddSingleton<OwnerAuthorizationService>();
        services.TryAddSingleton<IdentifiableReportService>();
        services.AddOptions<ParentLinkOptions>().BindConfiguration(ParentLinkOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<ParentLinkKeys>();
        services.TryAddSingleton<ParentLinkTable>();
        services.TryAddSingleton<ParentLinkService>();
        services.TryAddSingleton<ParentRateTable>();
        services.TryAddSingleton<ParentRateLimiter>();
        services.TryAddSingleton<DisclosureTable>();
        services.TryAddSingleton<DisclosureRecord>();
        services.TryAddSingleton<DisclosureDocuments>();
        services.TryAddSingleton<ParentPageService>();
        return services;
    }
}
