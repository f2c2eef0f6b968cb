using System.Reflection;
using System.Text.Json;
using ChildShare.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace ChildShare.Tests.EndToEnd;

/// <summary>
/// The route table the local host, the OpenAPI document and these tests share: it holds every
/// function the Worker SDK registers (its <c>functions.metadata</c>), and the served host answers
/// each HTTP function's route.
/// </summary>
[Collection(ServedAppCollection.Name)]
public sealed class RouteTableTests(ServedApp app)
{
    [Fact]
    public void Catalog_EveryFunctionOfTheAssembly_HasATriggerTheHostServes()
    {
        var declared = typeof(FunctionCatalog).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name).OfType<string>().Order(StringComparer.Ordinal).ToList();
        var served = FunctionCatalog.Http.Select(f => f.Name).Concat(FunctionCatalog.Blob.Select(f => f.Name)).Concat(FunctionCatalog.Timer.Select(f => f.Name))
            .Order(StringComparer.Ordinal).ToList();

        Assert.NotEmpty(FunctionCatalog.Http);
        Assert.Equal(declared, served);
    }

    [Fact]
    public void Catalog_MatchesTheWorkerSdksFunctionsMetadata()
    {
        // What the real Functions host reads: the same names, triggers, methods and routes.
        var metadata = FunctionsMetadata();
        var http = metadata.Select(f => (Name: f.GetProperty("name").GetString()!, Trigger: f.GetProperty("bindings").EnumerateArray()
                .First(b => b.GetProperty("direction").GetString() == "In" && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal))))
            .Where(f => f.Trigger.GetProperty("type").GetString() == "httpTrigger")
            .Select(f => $"{f.Name} {string.Join(",", f.Trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant()))} {f.Trigger.GetProperty("route").GetString()}")
            .Order(StringComparer.Ordinal).ToList();

        Assert.Equal(http, FunctionCatalog.Http.Select(f => $"{f.Name} {string.Join(",", f.Methods)} {f.Route}").Order(StringComparer.Ordinal).ToList());
        Assert.Equal(metadata.Count, FunctionCatalog.All.Count);
    }

    [Fact]
    public async Task EveryHttpFunction_OverTheWire_IsRouted()
    {
        var unrouted = new List<string>();
        foreach (var function in FunctionCatalog.Http)
        {
            // Without credentials every route answers with a problem (or, for a public route, its body); only an unknown route gets the host's bare 404.
            var response = await app.SendAsync(ServedApp.Request(new HttpMethod(function.Methods[0]), ServedApp.SamplePath(function), body: function.Methods[0] == "GET" ? null : "{}"));
            if (response.Status == 404 && response.Body.Length == 0)
            {
                unrouted.Add(function.Name);
            }
        }

        Assert.Empty(unrouted);
    }

    [Fact]
    public async Task UnknownRoute_OverTheWire_404WithoutBody()
    {
        var response = await app.GetAsync("/api/no-such-route", app.Key("ops"));

        Assert.Equal(404, response.Status);
        Assert.Empty(response.Body);
    }

    private static List<JsonElement> FunctionsMetadata()
    {
        var functions = Path.Combine(FindRepositoryRoot(), "functions", "ChildShare.Functions", "bin");
        var file = Directory.GetFiles(functions, "functions.metadata", SearchOption.AllDirectories).Select(f => new FileInfo(f)).OrderByDescending(f => f.LastWriteTimeUtc).First();
        return JsonDocument.Parse(File.ReadAllText(file.FullName)).RootElement.EnumerateArray().ToList();
    }

    internal static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "ChildShare.Functions.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("No folder above the tests holds ChildShare.Functions.sln.");
    }
}
