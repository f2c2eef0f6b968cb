using Azure.Data.Tables;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;
using ChildShare.Core.Ingestion;
using ChildShare.Core.Organizations;
using ChildShare.Core.Sharing.Aggregate;
using ChildShare.Tests.Agreements;
using ChildShare.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace ChildShare.Tests.Sharing.Aggregate;

/// <summary>
/// The community the protection tests share: one provider, <c>p1</c>, and per differencing protection an
/// organization <c>{protection}-org</c> with an aggregate agreement over it under that protection; month
/// rows placed straight into the activity buckets (the clearest way to put one child on given days).
/// </summary>
internal static class ProtectionCommunity
{
    public static async Task<ServiceProvider> BuildAsync(TestStorage storage)
    {
        var services = TestApp.Build(storage, new FakeTimeProvider(TestApp.Now));
        await services.GetRequiredService<ProviderRegistry>().RegisterAsync("p1", "Provider one", "Other");
        var agreements = services.GetRequiredService<AgreementStore>();
        foreach (var protection in Enum.GetValues<DifferencingProtection>())
        {
            var org = OrganizationOf(protection);
            await agreements.CreateAsync(AgreementTestData.Aggregate("dsa-" + org, org, "p1") with { Protection = protection }, "test");
        }

        return services;
    }

    public static string OrganizationOf(DifferencingProtection protection) => protection.ToString().ToLowerInvariant() + "-org";

    /// <summary>A month row of <c>p1</c>: the child active on the days of <paramref name="mask"/> in Tutoring/Academic.</summary>
    public static TableEntity Month(string month, string providerChild, string childKey, uint mask, string sex) =>
        new(month, "p1|" + providerChild)
        {
            ["ChildKey"] = childKey, ["ProviderId"] = "p1", ["DayMask"] = (long)mask, ["UpdatedAt"] = TestApp.Now,
            ["Activities"] = ActivityMonths.Serialize([new ActivityEntry("Tutoring", "Academic", mask)]), ["Sex"] = sex,
        };

    /// <summary>The aggregate report as the organization under <paramref name="protection"/> asks for it.</summary>
    public static Task<ReportResult> RunAsync(IServiceProvider services, DifferencingProtection protection, Dictionary<string, string?> parameters) =>
        services.GetRequiredService<AggregateReportService>().RunAsync(
            new Caller(OrganizationOf(protection), CallerRoles.Reader, CallerAuthMethod.ApiKey, "k"), parameters, null);
}
