using System.Security.Cryptography;
using System.Text;
using ChildShare.Core.Activity;
using ChildShare.Core.Agreements;

namespace ChildShare.Core.Sharing.Aggregate;

/// <summary>
/// Protection against differencing overlapping periods, applied to the counts that are shown
/// (after suppression; zero stays zero):
/// <list type="bullet">
/// <item><c>Round5</c>: each count is rounded to the nearest multiple of 5, and 1 to 2 to 5, so a
/// difference of one child between two periods is usually invisible (12 and 11 both show 10).</item>
/// <item><c>Noise</c>: each count gets an integer from -2 to +2 drawn from an HMAC of the cell and
/// the query (period and agreements) under a secret key, never below 1. The same query always gets
/// the same answer, so repeating it does not average the noise away.</item>
/// </list>
/// Margins are protected independently, so protected cells need not add up to protected totals.
/// </summary>
public static class DifferencingGuard
{
    public static long Protect(long count, DifferencingProtection protection, ReadOnlySpan<byte> noiseKey, string cellAndQuery)
    {
        if (count <= 0)
        {
            return count;
        }

        switch (protection)
        {
            case DifferencingProtection.Round5:
                return Math.Max(5, (count + 2) / 5 * 5);
            case DifferencingProtection.Noise:
                Span<byte> mac = stackalloc byte[32];
                HMACSHA256.HashData(noiseKey, Encoding.UTF8.GetBytes(cellAndQuery), mac);
                return Math.Max(1, count + (mac[0] % 5) - 2);
            default:
                return count;
        }
    }
}
