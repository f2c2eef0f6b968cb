using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// How a row's demographics are staged (in <see cref="DemographicColumns"/>, never a direct identifier), for the summary
/// rebuild to fold into the child's record.
/// </summary>
public static class ChildDemographics
{
    /// <summary>What a row says, by column. Unknown is left out, so a row that omits a value does not erase what an earlier row said.</summary>
    public static Dictionary<string, string> Of(Demographics demographics)
    {
        ArgumentNullException.ThrowIfNull(demographics);
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        if (demographics.Sex != Sex.Unknown)
        {
            columns[DemographicColumns.Sex] = demographics.Sex.ToString();
        }

        if (demographics.Race != Race.Unknown)
        {
            columns[DemographicColumns.Race] = demographics.Race.ToString();
            columns[DemographicColumns.Races] = string.Join(';', demographics.Races);
        }

        if (demographics.Ethnicity != Ethnicity.Unknown)
        {
            columns[DemographicColumns.Ethnicity] = demographics.Ethnicity.ToString();
        }

        if (demographics.Zip is { } zip)
        {
            columns[DemographicColumns.Zip] = zip;
            if (ZipCodes.Zip3(zip) is { } zip3)
            {
                columns[DemographicColumns.Zip3] = zip3;
            }
        }

        if (demographics.Grade is { } grade)
        {
            columns[DemographicColumns.Grade] = grade;
        }

        if (demographics.School is { } school)
        {
            columns[DemographicColumns.School] = school;
        }

        return columns;
    }
}
