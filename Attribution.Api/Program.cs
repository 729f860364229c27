using Attribution.Api.Analytics;
using Attribution.Api.Audit;
using Attribution.Api.Billing;
using Attribution.Api.Campaigns;
using Attribution.Api.Cli;
using Attribution.Api.Config;
using Attribution.Api.Dashboard;
using Attribution.Api.Experiments;
using Attribution.Api.Fraud;
using Attribution.Api.Health;
using Attribution.Api.Impressions;
using Attribution.Api.IngestKeys;
using Attribution.Api.Infrastructure;
using Attribution.Api.Jobs;
using Attribution.Api.Lakehouse;
using Attribution.Api.Metrics;
using Attribution.Api.MultiTouch;
using Attribution.Api.Observability;
using Attribution.Api.Pipeline;
using Attribution.Api.Replays;
using Attribution.Api.Tracking;
using Attribution.Api.Users;

if (CommandLine.IsVerb(args))
{
    return await CommandLine.RunAsync(args);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddAttributionApi();

var app = builder.Build();
app.UseAttributionApi();
app.MapTracking();
app.MapHealth();
app.MapPrometheusScrape();
var queriesAndAdmin = app.MapGroup("").RequireRateLimiting(RateLimits.PerClient);
queriesAndAdmin.MapImpressions();
queriesAndAdmin.MapMetrics();
queriesAndAdmin.MapAudit();
queriesAndAdmin.MapPipeline();
queriesAndAdmin.MapAttributionConfig();
queriesAndAdmin.MapReplays();
queriesAndAdmin.MapJobs();
queriesAndAdmin.MapLakehouse();
queriesAndAdmin.MapAnalytics();
queriesAndAdmin.MapMultiTouch();
queriesAndAdmin.MapCampaigns();
queriesAndAdmin.MapExperiments();
queriesAndAdmin.MapFraud();
queriesAndAdmin.MapBilling();
queriesAndAdmin.MapUsers();
queriesAndAdmin.MapAudience();
queriesAndAdmin.MapIngestKeys();
queriesAndAdmin.MapClickUrls();
app.MapJobsDashboard();
app.MapDashboard();
app.MapBenchEndpoints();

await app.RunAsync();
return 0;

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
