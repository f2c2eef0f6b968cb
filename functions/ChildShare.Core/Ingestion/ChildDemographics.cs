using Azure.Data.Tables;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// How a row's demographics are staged (in <see cref="DemographicColumns"/>, never a direct identifier), for the summary
/// rebuild to fold into the child's record.
/// </summary>
public static class ChildDemographics
{
    /// <summary>Writes what a row says. Unknown is not written, so a row that omits a value does not erase what an earlier row said.</summary>
    public static void Write(TableEntity entity, Demographics demographics)
    {
        if (demographics.Sex != Sex.Unknown)
        {
            entity[DemographicColumns.Sex] = demographics.Sex.ToString();
        }

        if (demographics.Race != Race.Unknown)
        {
            entity[DemographicColumns.Race] = demographics.Race.ToString();
            entity[DemographicColumns.Races] = string.Join(';', demographics.Races);
        }

        if (demographics.Ethnicity != Ethnicity.Unknown)
        {
            entity[DemographicColumns.Ethnicity] = demographics.Ethnicity.ToString();
        }

        if (demographics.Zip is { } zip)
        {
            entity[DemographicColumns.Zip] = zip;
            entity[DemographicColumns.Zip3] = ZipCodes.Zip3(zip);
        }

        if (demographics.Grade is { } grade)
        {
            entity[DemographicColumns.Grade] = grade;
        }

        if (demographics.School is { } school)
        {
            entity[DemographicColumns.School] = school;
        }
    }
}
