using Azure.Data.Tables;
using ChildShare.Core.Audit;
using ChildShare.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChildShare.Tests.Support;

/// <summary>
/// An audit outage on real storage: the same Azurite corner as <see cref="TestStorage"/>, except that
/// the audit table is one that does not exist, so every audit write fails with the table service's
/// own 404 (TableNotFound) while every other table works.
/// </summary>
public sealed class AuditOutageStorage(TestStorage storage)
    : ChildShareStorage(storage.Tables, storage.Blobs, Microsoft.Extensions.Options.Options.Create(storage.Options))
{
    public const string MissingTable = "auditunavailable";

    public override TableClient Table(string logicalName) => base.Table(logicalName == TableNames.Audit ? MissingTable : logicalName);
}

public static class AuditOutage
{
    /// <summary>Registers an <see cref="AuditLog"/> whose every write fails (before the application's own registration).</summary>
    public static void Configure(IServiceCollection services, TestStorage storage) =>
        services.AddSingleton(sp => new AuditLog(new AuditOutageStorage(storage), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<AuditLog>>()));

    /// <summary>The application's services over <paramref name="storage"/> with the audit down.</summary>
    public static ServiceProvider Build(TestStorage storage, Microsoft.Extensions.Time.Testing.FakeTimeProvider time) =>
        TestApp.Build(storage, time, configure: services => Configure(services, storage));
}
