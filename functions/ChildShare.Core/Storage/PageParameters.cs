using System.Globalization;

namespace ChildShare.Core.Storage;

/// <summary>The <c>$top</c> and <c>$skip</c> of a paged read, parsed one way for every list (reports, uploads).</summary>
public static class PageParameters
{
    /// <summary>A paging parameter: absent is <paramref name="fallback"/>; out of range adds an error.</summary>
    public static int Integer(string? text, string name, int fallback, int min, int max, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        errors.Add($"{name} is a whole number from {min} to {max}.");
        return fallback;
    }
}
