using System.Text.Json;
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
/// by <see cref="AgreementStore"/>.
/// </summary>
public sealed class AgreementsAdmin(CallerResolver callers, AgreementStore agreements)
{
    [Function("ListAgreements")]
    public async Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "manage/agreements")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (caller, refusal) = await AdminAsync(request, cancellationToken);
        return caller is null ? refusal! : new OkObjectResult(new { value = await agreements.ListAsync(cancellationToken) });
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

        return await agreements.GetAsync(id, cancellationToken) is { } agreement ? new OkObjectResult(agreement) : Problems.NotFound($"No agreement has the id {id}.");
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

        var (draft, invalid) = await ReadAsync<DataSharingAgreement>(request, cancellationToken);
        if (draft is null)
        {
            return invalid!;
        }

        return await ChangeAsync(async () =>
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

        var (terms, invalid) = await ReadAsync<DataSharingAgreement>(request, cancellationToken);
        if (terms is null)
        {
            return invalid!;
        }

        return await ChangeAsync(async () => await agreements.AmendAsync(id, terms, Actor(caller), cancellationToken) is { } amended
            ? new OkObjectResult(amended)
            : Problems.NotFound($"No agreement has the id {id}."));
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

        var (body, invalid) = await ReadAsync<TerminationRequest>(request, cancellationToken);
        if (body is null)
        {
            return invalid!;
        }

        return await ChangeAsync(async () => await agreements.TerminateAsync(id, body.Reason, Actor(caller), body.On, cancellationToken) is { } terminated
            ? new OkObjectResult(terminated)
            : Problems.NotFound($"No agreement has the id {id}."));
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

    private static async Task<(T? Value, IActionResult? Invalid)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, AgreementJson.Options, cancellationToken);
            return value is null ? (null, Problems.BadRequest("The request body is empty.")) : (value, null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"The request body is not a valid {typeof(T).Name}: {ex.Message}"));
        }
    }

    private static async Task<IActionResult> ChangeAsync(Func<Task<IActionResult>> change)
    {
        try
        {
            return await change();
        }
        catch (AgreementValidationException ex)
        {
            return Problems.BadRequest(ex.Message, new Dictionary<string, object?> { ["errors"] = ex.Errors });
        }
    }
}

/// <summary>The JSON options agreement bodies are read with (camelCase, enums as names).</summary>
public static class AgreementJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
