using ChildShare.Core.Sharing.Deidentified;

namespace ChildShare.Tests.Sharing.Deidentified.Anonymization;

/// <summary>Small hand-made inputs for the anonymizer's parts.</summary>
internal static class AnonymizationTestData
{
    public static readonly DateOnly PeriodStart = new(2026, 9, 1);

    /// <summary>A child of a given age (on <see cref="PeriodStart"/>), sex and school; the other demographics fixed.</summary>
    public static ResolvedChild Child(int age, string sex = "Female", string school = "A", string grade = "3") =>
        new(PeriodStart.AddYears(-age).AddDays(-10), sex, "White", "NotHispanicOrLatino", "981", grade, school);

    public static AnonymizationSettings Settings(IReadOnlyList<string> qis, int k = 2, double maxSuppression = 0, int l = 1) =>
        new(qis, k, maxSuppression, PeriodStart, L: l, SensitiveAttribute: l > 1 ? "serviceTypes" : null);
}
