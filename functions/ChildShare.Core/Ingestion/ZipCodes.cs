namespace ChildShare.Core.Ingestion;

/// <summary>US zip codes to five digits.</summary>
public static class ZipCodes
{
    /// <summary>
    /// Accepts 12345, 12345-6789 and 123456789, and 3 or 4 digits padded with leading zeros
    /// (spreadsheets drop the zeros of New England and Puerto Rico codes).
    /// </summary>
    public static bool TryNormalize(string value, out string? zip)
    {
        var text = value.Trim();
        var dash = text.IndexOf('-', StringComparison.Ordinal);
        if (dash >= 0)
        {
            var plus4 = text[(dash + 1)..];
            if (plus4.Length != 4 || plus4.AsSpan().ContainsAnyExceptInRange('0', '9'))
            {
                zip = null;
                return false;
            }

            text = text[..dash];
        }
        else if (text.Length == 9)
        {
            text = text[..5];
        }

        if (text.Length is < 3 or > 5 || text.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            zip = null;
            return false;
        }

        zip = text.PadLeft(5, '0');
        return zip != "00000" ? true : Fail(out zip);
    }

    private static bool Fail(out string? zip)
    {
        zip = null;
        return false;
    }

    /// <summary>The first three digits, the Safe Harbor geographic unit.</summary>
    public static string? Zip3(string? zip) => zip is { Length: 5 } ? zip[..3] : null;
}
