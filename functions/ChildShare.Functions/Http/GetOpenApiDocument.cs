using ChildShare.Core.Callers;
using ChildShare.Functions.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.OpenApi;

namespace ChildShare.Functions.Http;

/// <summary>
/// <c>GET /api/openapi.json</c>: an OpenAPI 3.1 document of every HTTP function, built from
/// <see cref="FunctionCatalog"/> (the route table the local host serves), so it lists a new route
/// without being edited. It names each operation, its path parameters and the credentials (API key in
/// the <c>X-Api-Key</c> header or the <c>api-key</c> query parameter, or the Easy Auth principal);
/// the bodies are described in the README and the domain documents. Anonymous: it holds no data.
/// </summary>
public sealed class GetOpenApiDocument
{
    private const string HeaderKey = "apiKeyHeader";
    private const string QueryKey = "apiKeyQuery";

    [Function(nameof(GetOpenApiDocument))]
    public async Task<IActionResult> RunAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "openapi.json")] HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var document = Build($"{request.Scheme}://{request.Host}");
        return new ContentResult
        {
            Content = await document.SerializeAsJsonAsync(OpenApiSpecVersion.OpenApi3_1, cancellationToken),
            ContentType = "application/json; charset=utf-8",
            StatusCode = StatusCodes.Status200OK,
        };
    }

    public static OpenApiDocument Build(string serverUrl)
    {
        var document = new OpenApiDocument
        {
            Info = new OpenApiInfo
            {
                Title = "ChildShare",
                Version = "1",
                Description = "Aggregate reports, de-identified exports and consented identifiable reports between child-serving organizations.",
            },
            Servers = [new OpenApiServer { Url = serverUrl }],
            Paths = [],
            Components = new OpenApiComponents
            {
                SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
                {
                    [HeaderKey] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, Name = CallerResolver.ApiKeyHeaderName, In = ParameterLocation.Header },
                    [QueryKey] = new OpenApiSecurityScheme { Type = SecuritySchemeType.ApiKey, Name = CallerResolver.ApiKeyQueryName, In = ParameterLocation.Query },
                },
            },
        };

        foreach (var group in FunctionCatalog.Http.GroupBy(f => OpenApiPath(f.Path)))
        {
            var item = new OpenApiPathItem();
            foreach (var function in group)
            {
                var operation = new OpenApiOperation
                {
                    OperationId = function.Name,
                    Summary = function.Name,
                    Parameters = function.RouteParameters.Select(p => (IOpenApiParameter)new OpenApiParameter
                    {
                        Name = p, In = ParameterLocation.Path, Required = true, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                    }).ToList(),
                    Responses = new OpenApiResponses { ["200"] = new OpenApiResponse { Description = "Success (201 where a resource is created)." } },
                };
                if (!FunctionCatalog.NeedsNoCaller(function.Name))
                {
                    operation.Responses["401"] = new OpenApiResponse { Description = "No caller: an RFC 9457 problem." };
                    operation.Responses["403"] = new OpenApiResponse { Description = "The caller may not: an RFC 9457 problem." };
                    operation.Security =
                    [
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(HeaderKey, document)] = [] },
                        new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(QueryKey, document)] = [] },
                    ];
                }

                foreach (var method in function.Methods)
                {
                    item.AddOperation(new HttpMethod(method), operation);
                }
            }

            document.Paths.Add(group.Key, item);
        }

        return document;
    }

    /// <summary>An OpenAPI path: route constraints dropped (<c>{id:length(32)}</c> is <c>{id}</c>).</summary>
    public static string OpenApiPath(string path) =>
        string.Join('/', path.Split('/').Select(s => s.StartsWith('{') ? "{" + FunctionCatalog.ParametersOf(s)[0] + "}" : s));
}
