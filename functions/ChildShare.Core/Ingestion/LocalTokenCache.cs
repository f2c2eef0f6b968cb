using ChildShare.Core.Pseudonymization;
using ChildShare.Core.Storage;

namespace ChildShare.Core.Ingestion;

/// <summary>
/// One upload's local tokens (<see cref="RecordKeys.LocalToken"/>), keyed by the local id as the row gave it. An upload has a row
/// per service, so a child's local id comes back on each of its rows, in whatever order the file lists them: the token is made
/// once a child, and a later row costs one lookup of its short id (not the pseudonymizer's lookup of the whole token input among
/// every token of the upload, nor a new hex string). One instance serves one upload, from one thread.
/// </summary>
public sealed class LocalTokenCache(Pseudonymizer pseudonymizer, string providerId)
{
    /// <summary>Ids kept, at most (then the cache starts again empty): about 100 bytes each.</summary>
    internal const int Limit = Pseudonymizer.CacheLimit;

    private readonly Dictionary<string, string> _tokens = new(StringComparer.Ordinal);

    public string Of(string localChildId)
    {
        ArgumentNullException.ThrowIfNull(localChildId);
        if (_tokens.TryGetValue(localChildId, out var token))
        {
            return token;
        }

        if (_tokens.Count >= Limit)
        {
            _tokens.Clear();
        }

        token = RecordKeys.LocalToken(pseudonymizer, providerId, localChildId);
        _tokens[localChildId] = token;
        return token;
    }
}
