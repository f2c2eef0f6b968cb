using ChildShare.Core.Agreements;
using ChildShare.Core.Organizations;
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
public sealed class AgreementsAdmin(AgreementStore agreements)
{
    [Function("ListAgreements")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken) =>
        Admin(request) is not { } caller ? NotAdmin : new OkObjectResult(new { value = await agreements.ListForAsync(caller, cancellationToken) });

    [Function("GetAgreement")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        Admin(request) is not { } caller ? NotAdmin
        : await agreements.GetForAsync(caller, id, cancellationToken) is { } agreement ? new OkObjectResult(agreement)
        : NoSuchAgreement;

    [Function("CreateAgreement")]
    public async Task<IActionResult> CreateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Admin(request) is not { } caller)
        {
            return NotAdmin;
        }

        var created = await agreements.CreateAsync(await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken), Actor(caller), cancellationToken);
        return new CreatedResult($"/api/manage/agreements/{created.Id}", created);
    }

    [Function("AmendAgreement")]
    public async Task<IActionResult> AmendAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Admin(request) is not { } caller)
        {
            return NotAdmin;
        }

        var terms = await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken);
        return await agreements.AmendAsync(id, terms, Actor(caller), cancellationToken) is { } amended ? new OkObjectResult(amended) : NoSuchAgreement;
    }

    [Function("TerminateAgreement")]
    public async Task<IActionResult> TerminateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements/{id}/terminate")] HttpRequest request, string id,
        CancellationToken cancellationToken)
    {
        if (Admin(request) is not { } caller)
        {
            return NotAdmin;
        }

        var body = await JsonBodies.ReadAsync<TerminationRequest>(request, cancellationToken);
        return await agreements.TerminateAsync(id, body.Reason, Actor(caller), body.On, cancellationToken) is { } terminated
            ? new OkObjectResult(terminated)
            : NoSuchAgreement;
    }

    private static ObjectResult NotAdmin => Problems.Forbidden("Managing agreements needs the Admin role.");

    private static ObjectResult NoSuchAgreement => Problems.NotFound("No agreement has this id.");

    private static string Actor(Caller caller) => $"{caller.OrganizationId}/{caller.Method}/{caller.CredentialId}";

    /// <summary>The caller when it has the Admin role (checked before any body is read, as before any store is touched).</summary>
    private static Caller? Admin(HttpRequest request) => HttpPipeline.CallerOf(request) is { IsAdmin: true } caller ? caller : null;
}
