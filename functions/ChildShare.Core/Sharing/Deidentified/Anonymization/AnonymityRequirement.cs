namespace ChildShare.Core.Sharing.Deidentified.Anonymization;

/// <summary>
/// What a node must satisfy: classes of at least <see cref="K"/> children with at least <see cref="L"/>
/// distinct sensitive values, except at most <see cref="SuppressionLimit"/> children (suppressed).
/// </summary>
internal sealed record AnonymityRequirement(int K, int L, int SuppressionLimit, int Records)
{
    /// <summary>k at least 1; l only when sensitive values are given; the limit is floor(maxSuppression · n).</summary>
    public static AnonymityRequirement Of(AnonymizationSettings settings, int records, bool hasSensitive)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new(Math.Max(1, settings.K), hasSensitive ? Math.Max(1, settings.L) : 1,
            (int)Math.Floor(Math.Clamp(settings.MaxSuppression, 0, 1) * records), records);
    }

    /// <summary>Whether a class is released (otherwise its children are suppressed).</summary>
    public bool Releases(int count, int distinct) => count >= K && distinct >= L;

    /// <summary>Whether a node that suppresses this many children is k-anonymous (something must be released).</summary>
    public bool Accepts(int suppressed) => suppressed <= SuppressionLimit && suppressed < Records;
}
