using System.ComponentModel.DataAnnotations;

namespace ChildShare.Core.Sharing.Identifiable;

/// <summary>Consent settings (section <c>Consent</c>, app settings <c>Consent__...</c>).</summary>
public sealed class ConsentOptions
{
    public const string SectionName = "Consent";

    /// <summary>The expiry timer's NCRONTAB schedule (six fields, seconds first); hourly by default.</summary>
    public string ExpirySchedule { get; set; } = "0 0 * * * *";

    /// <summary>Consents expiring within this many days are listed for renewal (default 30).</summary>
    [Range(1, 3650)]
    public int RenewalWindowDays { get; set; } = 30;

    /// <summary>The community default cap on how long a consent may run, from when it takes effect (default 365 days).</summary>
    [Range(1, 3650)]
    public int MaxConsentDays { get; set; } = 365;

    /// <summary>Consents the expiry job handles at once (point reads and updates in parallel).</summary>
    [Range(1, 64)]
    public int ExpiryParallelism { get; set; } = 8;
}
