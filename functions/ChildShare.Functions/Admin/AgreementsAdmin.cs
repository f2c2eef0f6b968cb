using ChildShare.Core.Agreements;
using ChildShare.Functions.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Functions.Admin;

/// <summary>The termination request body.</summary>
public sealed record TerminationRequest(string Reason, DateOnly? On);

/// <summary>
/// The agreements admin API. Routes live under <c>/api/manage/</c> because the Functions host reserves <c>/admin</c>. Who may
/// manage agreements is decided by <see cref="AgreementAdminService"/> (the command line asks the same service), before any
/// body is read; every change is audited by <see cref="AgreementStore"/> before it is made, and every read before it is
/// returned (503 when the audit cannot be written).
/// </summary>
public sealed class AgreementsAdmin(AgreementAdminService admin)
{
    [Function("ListAgreements")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken) =>
        Session(request) is not { } session ? NotAdmin : new OkObjectResult(new { value = await session.ListAsync(cancellationToken) });

    [Function("GetAgreement")]
    public async Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken) =>
        Session(request) is not { } session ? NotAdmin
        : await session.GetAsync(id, cancellationToken) is { } agreement ? new OkObjectResult(agreement)
        : NoSuchAgreement;

    [Function("CreateAgreement")]
    public async Task<IActionResult> CreateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Session(request) is not { } session)
        {
            return NotAdmin;
        }

        var created = await session.CreateAsync(await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken), cancellationToken);
        return new CreatedResult($"/api/manage/agreements/{created.Id}", created);
    }

    [Function("AmendAgreement")]
    public async Task<IActionResult> AmendAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "manage/agreements/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Session(request) is not { } session)
        {
            return NotAdmin;
        }

        var terms = await JsonBodies.ReadAsync<DataSharingAgreement>(request, cancellationToken);
        return await session.AmendAsync(id, terms, cancellationToken) is { } amended ? new OkObjectResult(amended) : NoSuchAgreement;
    }

    [Function("TerminateAgreement")]
    public async Task<IActionResult> TerminateAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "manage/agreements/{id}/terminate")] HttpRequest request, string id,
        CancellationToken cancellationToken)
    {
        if (Session(request) is not { } session)
        {
            return NotAdmin;
        }

        var body = await JsonBodies.ReadAsync<TerminationRequest>(request, cancellationToken);
        return await session.TerminateAsync(id, body.Reason, body.On, cancellationToken) is { } terminated ? new OkObjectResult(terminated) : NoSuchAgreement;
    }

    private static ObjectResult NotAdmin => Problems.Forbidden(AgreementAdminService.NotPermitted);

    private static ObjectResult NoSuchAgreement => Problems.NotFound("No agreement has this id.");

    /// <summary>The caller's session when it may manage agreements: asked before any body is read, as before any store is touched.</summary>
    private AgreementAdminSession? Session(HttpRequest request) => admin.Authorize(HttpPipeline.CallerOf(request));
}
