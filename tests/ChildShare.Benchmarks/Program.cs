using ChildShare.Benchmarks;

// Benchmarks run by hand against the local Azurite, never in CI or tests:
//   dotnet run -c Release --project tests/ChildShare.Benchmarks -- report [--children N] [--keep] [--reuse PREFIX]
//   dotnet run -c Release --project tests/ChildShare.Benchmarks -- report-profile --reuse PREFIX [--repeat N]   (where a kept report's time goes)
//   dotnet run -c Release --project tests/ChildShare.Benchmarks -- ingest cpu [--runs N]|breakdown|azurite [--children N]|memory [--children N]|memory-stream [GB]
//   dotnet run -c Release --project tests/ChildShare.Benchmarks -- export [--children N] [--k K] [--repeat R] [--azurite]
var mode = args.FirstOrDefault() ?? "";
return mode switch
{
    "report" => await ReportBenchmark.RunAsync(args.Skip(1).ToArray()),
    "ingest" => await IngestionBenchmark.RunAsync(args.Skip(1).ToArray()),
    "export" => await ExportBenchmark.RunAsync(args.Skip(1).ToArray()),
    "report-profile" => await ReportProfile.RunAsync(args.Skip(1).ToArray()),
    "cleanup" => await ReportBenchmark.CleanupAsync(args.Skip(1).ToArray()),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: dotnet run -c Release --project tests/ChildShare.Benchmarks -- report [--keep] [--reuse PREFIX] | ingest cpu [--runs N]|breakdown|azurite [--children N]|memory [--children N]|memory-stream [GB] | export [--children N] [--k K] | cleanup --prefix PREFIX");
    return 2;
}
