using ChildShare.Core.Organizations;

namespace ChildShare.Core.Callers;

/// <summary>The outcome of resolving a request's credentials: a caller, or why there is none.</summary>
public sealed record CallerResult(Caller? Caller, string? Failure)
{
    public static CallerResult Success(Caller caller) => new(caller, null);

    public static CallerResult Fail(string reason) => new(null, reason);
}
