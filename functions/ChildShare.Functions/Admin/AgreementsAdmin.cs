using ChildShare.Core.Agreements;
using ChildShare.Core.Callers;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Admin;

/// <summary>The termination request body.</summary>
public sealed record TerminationRequest(string Reason, DateOnly? On);

/// <summary>
/// The agreements admin API, for callers with the <c>Admin</c> role. Routes live under
/// <c>/api/manage/</c> because the Functions host reserves <c>/admin</c>. Every change is audited
/// by <see cref="AgreementStore"/> before it is made, and every read before it is returned (503
/// when the audit cannot be written).
/// </summary>
public sealed class AgreementsAdmin(CallerResolver callers, AgreementStore agreements)
{
    [Function("ListAgreements")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        return caller is null ? refusal! : await Problems.GuardAsync(async () => new OkObjectResult(new { value = await agreements.ListForAsync(caller, cancellationToken) }));
    }

    [Function("GetAgreement")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        return await Problems.GuardAsync(async () => await agreements.GetForAsync(caller, id, cancellationToken) is { } agreement
            ? new OkObjectResult(agreement)
            : Problems.NotFound("No agreement has this id."));
    }

    [Function("CreateAgreement")]
    public async Task<IActionResult> CreateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (draft, invalid) = await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken);
        if (draft is null)
        {
            return invalid!;
        }

        return await Problems.GuardAsync(async () =>
        {
            var created = await agreements.CreateAsync(draft, Actor(caller), cancellationToken);
            return new CreatedResult($"/api/manage/agreements/{created.Id}", created);
        });
    }

    [Function("AmendAgreement")]
    public async Task<IActionResult> AmendAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (terms, invalid) = await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken);
        if (terms is null)
        {
            return invalid!;
        }

        return await Problems.GuardAsync(async () => await agreements.AmendAsync(id, terms, Actor(caller), cancellationToken) is { } amended
            ? new OkObjectResult(amended)
            : Problems.NotFound("No agreement has this id."));
    }

    [Function("TerminateAgreement")]
    public async Task<IActionResult> TerminateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements/{id}/terminate")] HttpRequest request, string id,
        CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        if (caller is null)
        {
            return refusal!;
        }

        var (body, invalid) = await JsonBodies.ReadAsync<TerminationRequest>(request, cancellationToken);
        if (body is null)
        {
            return invalid!;
        }

        return await Problems.GuardAsync(async () => await agreements.TerminateAsync(id, body.Reason, Actor(caller), body.On, cancellationToken) is { } terminated
            ? new OkObjectResult(terminated)
            : Problems.NotFound("No agreement has this id."));
    }

    private static string Actor(Caller caller) => $"{caller.OrganizationId}/{caller.Method}/{caller.CredentialId}";

    private async Task<(Caller? Caller, IActionResult? Refusal)> AdminAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await HttpCallers.ResolveAsync(callers, request, cancellationToken);
        if (caller is null)
        {
            return (null, refusal);
        }

        return caller.IsAdmin ? (caller, null) : (null, Problems.Forbidden("Managing agreements needs the Admin role."));
    }
}
