using Azure.Data.Tables;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// The demographic properties a child's record and activity summaries carry (never a direct
/// identifier), and how a provider's later rows update them.
/// </summary>
public static class ChildDemographics
{
    /// <summary>Properties copied from a child's record to each of its activity summaries.</summary>
    public static readonly IReadOnlyList<string> Properties = ["BirthDate", "Sex", "Race", "Races", "Ethnicity", "Zip", "Zip3", "Grade", "School"];

    /// <summary>Writes what a row says. Unknown is not written, so a row that omits a value does not erase what an earlier row said.</summary>
    public static void Write(TableEntity entity, Demographics demographics)
    {
        if (demographics.Sex != Sex.Unknown)
        {
            entity["Sex"] = demographics.Sex.ToString();
        }

        if (demographics.Race != Race.Unknown)
        {
            entity["Race"] = demographics.Race.ToString();
            entity["Races"] = string.Join(';', demographics.Races);
        }

        if (demographics.Ethnicity != Ethnicity.Unknown)
        {
            entity["Ethnicity"] = demographics.Ethnicity.ToString();
        }

        if (demographics.Zip is { } zip)
        {
            entity["Zip"] = zip;
            entity["Zip3"] = ZipCodes.Zip3(zip);
        }

        if (demographics.Grade is { } grade)
        {
            entity["Grade"] = grade;
        }

        if (demographics.School is { } school)
        {
            entity["School"] = school;
        }
    }

    /// <summary>Copies the demographic values <paramref name="source"/> has over those of <paramref name="target"/>.</summary>
    public static void MergeInto(TableEntity target, TableEntity source)
    {
        foreach (var property in Properties)
        {
            if (source.GetString(property) is { Length: > 0 } value)
            {
                target[property] = value;
            }
        }
    }
}
