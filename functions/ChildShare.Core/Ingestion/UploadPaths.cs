namespace ChildShare.Core.Ingestion;

/// <summary>
/// Which names of the uploads container stay inside their provider's folder. A URL, the storage SDK or
/// the service resolves <c>.</c> and <c>..</c> segments (<c>a/../b/x.csv</c> becomes <c>b/x.csv</c>), and
/// clients read a backslash or an encoded <c>%2e</c>, <c>%2f</c>, <c>%5c</c> as one of them, so a name
/// holding any of these could land in, or be read from, another provider's folder. Such names are
/// refused by the command line and not processed by the trigger. Messages never quote the name.
/// </summary>
public static class UploadPaths
{
    private static readonly string[] EncodedSeparators = ["%2e", "%2f", "%5c"];

    /// <summary>Why a blob name could leave its folder once resolved, or null when it cannot.</summary>
    public static string? EscapeProblem(string blobName)
    {
        if (blobName.Length is 0 or > 1024)
        {
            return "The upload path must be 1 to 1024 characters.";
        }

        if (blobName.Contains('\\'))
        {
            return "The upload path has a backslash, which clients read as a folder separator; use '/'.";
        }

        if (blobName.Any(char.IsControl))
        {
            return "The upload path has a control character.";
        }

        if (EncodedSeparators.Any(e => blobName.Contains(e, StringComparison.OrdinalIgnoreCase)))
        {
            return "The upload path has an encoded '.', '/' or '\\' (%2e, %2f, %5c), which may be resolved as a folder step.";
        }

        foreach (var segment in blobName.Split('/'))
        {
            if (segment is "." or "..")
            {
                return "The upload path has a '.' or '..' segment, which would leave the provider's folder once resolved.";
            }

            if (segment.Length == 0)
            {
                return "The upload path has an empty segment (a leading, doubled or trailing '/').";
            }

            if (segment.EndsWith('.'))
            {
                return "The upload path has a segment ending with '.', which the storage service may drop.";
            }
        }

        return null;
    }
}
