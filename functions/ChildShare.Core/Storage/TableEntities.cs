using Azure.Data.Tables;

namespace ChildShare.Core.Storage;

/// <summary>What the stores' row mappings share.</summary>
internal static class TableEntities
{
    /// <summary>
    /// Sets a column only when there is a value: an absent column reads back as null, where an empty one would read back as
    /// an empty string (or fail to read as a number or a date).
    /// </summary>
    public static void SetIfPresent(this TableEntity entity, string column, object? value)
    {
        if (value is not null)
        {
            entity[column] = value;
        }
    }
}
