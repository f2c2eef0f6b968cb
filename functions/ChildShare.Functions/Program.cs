using ChildShare.Core;
using ChildShare.Functions.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.UseWhen<HttpPipelineMiddleware>(HttpPipelineMiddleware.IsHttpTrigger);
builder.Logging.AddRequestLogFilters();
builder.Services.AddChildShareCore(builder.Configuration);
builder.Services.AddChildShareHttpPipeline();
builder.Services.AddChildShareTelemetry(builder.Configuration);
builder.Build().Run();
