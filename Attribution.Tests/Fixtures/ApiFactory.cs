using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Projections.Pipeline;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>The whole service in-process on a database and a topic of its own, on the shared mock cluster.</summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key";

    /// <summary>The click signing key of every test service (Tracking:ClickSigningKeys:0): /click follows only signed redirects.</summary>
    public const string ClickSigningKey = "test-click-signing-key-0001";
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly bool _ownsDatabase;
    private long _offset;

    public ApiFactory() : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>A service with these settings over the defaults (a null value removes one), on a database of its own or,
    /// given <paramref name="sameDatabaseAs"/>, on that one as another instance of the same service (its owner drops it).
    /// The database is a copy of the run's migrated template unless <paramref name="createdByTheService"/>: then the
    /// service creates and migrates it from nothing, as on a newcomer's machine.
    /// Protected: xunit wants one public constructor on a class fixture; <see cref="With"/> calls this one.</summary>
    protected ApiFactory(IReadOnlyDictionary<string, string?> settings, ApiFactory? sameDatabaseAs = null, bool createdByTheService = false)
    {
        _settings = settings;
        _ownsDatabase = sameDatabaseAs is null;
        ConnectionString = sameDatabaseAs?.ConnectionString
            ?? (createdByTheService ? TestPostgres.NewDatabaseName("api") : TestPostgres.NewDatabase("api"));
        Topic = TestKafka.NewTopic(partitions: 4);
    }

    /// <inheritdoc cref="ApiFactory(IReadOnlyDictionary{string, string?}, ApiFactory?)"/>
    public static ApiFactory With(IReadOnlyDictionary<string, string?> settings, ApiFactory? sameDatabaseAs = null) => new(settings, sameDatabaseAs);

    /// <summary>This host's own folder for its warehouse and its ingest spool (one spool per instance).</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), "attribution-tests", Guid.NewGuid().ToString("N"));

    public string ConnectionString { get; }

    public string Topic { get; }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    protected virtual IDictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = ConnectionString,
            ["Kafka:BootstrapServers"] = TestKafka.BootstrapServers,
            ["Kafka:Topic"] = Topic,
            ["Kafka:ConsumerGroup"] = $"g-{Guid.NewGuid():N}",
            ["Kafka:SessionTimeoutMs"] = "6000",
            ["Admin:ApiKey"] = AdminKey,
            [TestIngestKey.Setting] = TestIngestKey.Secret,
            ["Tracking:ClickSigningKeys:0"] = ClickSigningKey,
            ["Jobs:Enabled"] = "false",
            // The audience cube's refresher rebuilds every changed day whole each minute; the hosts of long tests (the
            // 3,000,000-event burst) spent a PostgreSQL core on it. Tests of the cube refresh it themselves.
            ["Audience:RefreshSeconds"] = "0",
            ["Lakehouse:WarehousePath"] = Path.Combine(Folder, "warehouse"),
            ["Ingest:SpoolPath"] = Path.Combine(Folder, "spool"),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in _settings)
        {
            if (value is null) settings.Remove(key);
            else settings[key] = value;
        }

        return settings;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in Settings()) builder.UseSetting(key, value);
        builder.ConfigureLogging(l => l.SetMinimumLevel(LogLevel.Warning));
    }

    /// <summary>A client that signs its postbacks and batches with the test ingest key and does not follow redirects.</summary>
    public HttpClient Client() => TestIngestKey.Browser(CreateDefaultClient(new Uri("http://localhost"), TestIngestKey.Handler()));

    /// <summary>Waits until the consumer has applied everything Kafka holds and at least this many events.</summary>
    public Task<PipelineStatus> WaitForDrainAsync(long events, TimeSpan? timeout = null) =>
        Drain.WaitAsync(Services.GetRequiredService<PipelineStatusReader>(), events, timeout);

    public NpgsqlDataSource DataSource => Services.GetRequiredService<NpgsqlDataSource>();

    /// <summary>Applies wire events as one Kafka batch would be applied, without going through Kafka.</summary>
    public Task<BatchResult> ApplyAsync(IEnumerable<JsonObject> events) =>
        Services.GetRequiredService<BatchApplier>().ApplyAsync("g", "t", "cluster-1", events.Select(e =>
            new KafkaRecord(0, Interlocked.Increment(ref _offset), null, Encoding.UTF8.GetBytes(e.ToJsonString()), Scenario.T0)).ToList(),
            CancellationToken.None);

    /// <summary>A /click URL signed with <see cref="ClickSigningKey"/>, as GET /api/v1/click-urls gives it, plus the
    /// pixel's other fields (already a query string, e.g. "campaign_id=c1").</summary>
    public static string SignedClick(string impressionId, string redirect, string? fields = null) =>
        $"/click?impression_id={Uri.EscapeDataString(impressionId)}&redirect={Uri.EscapeDataString(redirect)}" +
        $"&sig={Attribution.Domain.Tracking.ClickSigningKeys.Compute(ClickSigningKey, impressionId, redirect)}" + (fields is null ? "" : "&" + fields);

    public static async Task<T> Read<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (!disposing) return;
        if (_ownsDatabase) TestPostgres.Drop(ConnectionString);
        if (Directory.Exists(Folder)) Directory.Delete(Folder, recursive: true);
    }
}
