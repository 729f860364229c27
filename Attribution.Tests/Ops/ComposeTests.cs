using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Attribution.Projections.Observability;
using Attribution.Tests.Fixtures;
using Attribution.Tests.Observability;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static Attribution.Tests.Ops.MiniYaml;

namespace Attribution.Tests.Ops;

/// <summary>
/// docker/ cannot be started here (no Docker engine, no compose plugin), so its files are checked for what would
/// break `docker compose up`: every referenced file exists, services, ports, volumes and addresses agree with each
/// other, and every metric a dashboard or an alert queries is one the service really exports (checked against a
/// scrape of the running service, not a list kept by hand).
/// </summary>
public sealed partial class ComposeTests
{
    private static readonly string Repo = FindRepo();
    private static readonly string Docker = Path.Combine(Repo, "docker");

    private static readonly Lazy<Task<HashSet<string>>> ExportedNames = new(ScrapeServiceAsync);

    private static string FindRepo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Attribution.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    private static Dictionary<string, object?> Compose() => Map(Parse(File.ReadAllText(Path.Combine(Docker, "compose.yaml"))), "compose.yaml");

    private static Dictionary<string, object?> Services() => Map(Compose()["services"], "services");

    private static Dictionary<string, object?> Service(string name) => Map(Services()[name], name);

    private static Dictionary<string, string> Env(string service) =>
        Map(Service(service)["environment"], $"{service}.environment").ToDictionary(e => e.Key, e => (string)e.Value!);

    private static IEnumerable<(string Source, string Target, bool ReadOnly)> Mounts(string service) =>
        Service(service).TryGetValue("volumes", out var v) && v is List<object?> list
            ? list.Select(m => ((string)m!).Split(':')).Select(p => (p[0], p[1], p.Length > 2 && p[2] == "ro"))
            : [];

    // Compose's ${VAR:-default}: what the stack runs with when nothing is set.
    private static string Defaults(string value) => DefaultPattern().Replace(value, m => m.Groups[2].Value);

    [GeneratedRegex(@"\$\{([A-Z_]+):-([^}]*)\}")]
    private static partial Regex DefaultPattern();

    [Fact]
    public void The_subset_parser_reads_what_the_files_use_and_refuses_the_rest()
    {
        var doc = Map(Parse("""
            # comment
            a: 1
            b:
              - x
              - "y # not a comment"
              - k: v
                w: 'it''s'
            c: ["CMD", "pg_isready", plain]
            d:
            e:
            - same-indent
            """), "doc");

        Assert.Equal("1", doc["a"]);
        var b = Seq(doc["b"], "b");
        Assert.Equal(["x", "y # not a comment"], b.Take(2));
        Assert.Equal("it's", Map(b[2], "b[2]")["w"]);
        Assert.Equal(["CMD", "pg_isready", "plain"], Seq(doc["c"], "c"));
        Assert.Null(doc["d"]);
        Assert.Equal(["same-indent"], Seq(doc["e"], "e"));
        Assert.Throws<FormatException>(() => Parse("a: {b: 1}"));
        Assert.Throws<FormatException>(() => Parse("a: 1\na: 2"));
        Assert.Throws<FormatException>(() => Parse("a: |\n  text"));
    }

    [Fact]
    public void Every_service_names_an_image_or_a_build_whose_files_exist_and_depends_only_on_services()
    {
        var services = Services();
        Assert.Equal(["api", "grafana", "iceberg-rest", "kafka", "kafka-init", "postgres", "prometheus", "trino"], services.Keys.Order(StringComparer.Ordinal));
        foreach (var (name, node) in services)
        {
            var service = Map(node, name);
            Assert.True(service.ContainsKey("image") || service.ContainsKey("build"), $"{name} has neither image nor build");
            if (service.TryGetValue("image", out var image) && !service.ContainsKey("build"))
                Assert.Matches(@"^[a-z0-9./-]+:[A-Za-z0-9._-]+$", (string)image!); // pinned, never :latest by accident
            if (service.TryGetValue("build", out var b))
            {
                var build = Map(b, $"{name}.build");
                var context = Path.GetFullPath(Path.Combine(Docker, (string)build["context"]!));
                Assert.Equal(Repo, context.TrimEnd(Path.DirectorySeparatorChar));
                Assert.True(File.Exists(Path.Combine(context, (string)build["dockerfile"]!)), "Dockerfile missing");
            }

            if (service.TryGetValue("depends_on", out var deps))
            {
                var names = deps is List<object?> l ? l.Cast<string>() : Map(deps, $"{name}.depends_on").Keys;
                foreach (var d in names) Assert.True(services.ContainsKey(d), $"{name} depends on unknown service {d}");
            }
        }
    }

    [Fact]
    public void Every_mounted_file_exists_and_every_named_volume_is_declared_and_used()
    {
        var declared = Map(Compose()["volumes"], "volumes").Keys.ToHashSet(StringComparer.Ordinal);
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in Services().Keys)
        {
            foreach (var (source, target, _) in Mounts(name))
            {
                Assert.StartsWith("/", target);
                if (source.StartsWith('.'))
                {
                    var path = Path.Combine(Docker, source);
                    Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} mounts {source}, which does not exist");
                }
                else
                {
                    Assert.True(declared.Contains(source), $"{name} mounts undeclared volume {source}");
                    used.Add(source);
                }
            }
        }

        Assert.Equal(declared.Order(StringComparer.Ordinal), used.Order(StringComparer.Ordinal));
        var init = Path.Combine(Docker, "postgres", "init", "10-grafana-reader.sh");
        if (!OperatingSystem.IsWindows())
            Assert.True(File.GetUnixFileMode(init).HasFlag(UnixFileMode.UserExecute), "the PostgreSQL init script must be executable");
    }

    [Fact]
    public void The_service_reaches_kafka_postgres_and_the_warehouse_where_the_other_services_put_them()
    {
        var api = Env("api");
        var kafka = Env("kafka");

        // Kafka: the address the broker advertises is the one the service and the topic job use.
        var advertised = kafka["KAFKA_ADVERTISED_LISTENERS"].Split(',').Single(l => l.StartsWith("PLAINTEXT://", StringComparison.Ordinal))["PLAINTEXT://".Length..];
        Assert.Equal(advertised, api["Kafka__BootstrapServers"]);
        Assert.Equal("kafka", advertised.Split(':')[0]);
        var topicJob = Seq(Service("kafka-init")["entrypoint"], "kafka-init.entrypoint").Cast<string>().ToList();
        Assert.Equal(advertised, topicJob[topicJob.IndexOf("--bootstrap-server") + 1]);
        Assert.Equal(api["Kafka__Topic"], topicJob[topicJob.IndexOf("--topic") + 1]);
        Assert.True(int.Parse(topicJob[topicJob.IndexOf("--partitions") + 1], System.Globalization.CultureInfo.InvariantCulture) >= 2);
        Assert.Equal("service_completed_successfully", (string?)Map(Map(Service("api")["depends_on"], "api.depends_on")["kafka-init"], "dep")["condition"]);

        // PostgreSQL: host, database, user and password agree with what the postgres service is created with.
        var pg = Env("postgres");
        var cs = new NpgsqlConnectionStringBuilder(Defaults(api["ConnectionStrings__Postgres"]));
        Assert.Equal("postgres", cs.Host);
        Assert.Equal(Defaults(pg["POSTGRES_DB"]), cs.Database);
        Assert.Equal(Defaults(pg["POSTGRES_USER"]), cs.Username);
        Assert.Equal(Defaults(pg["POSTGRES_PASSWORD"]), cs.Password);

        // The warehouse: a named volume at the configured path, the same volume behind the REST catalog and Trino.
        var warehouse = api["Lakehouse__WarehousePath"];
        var volume = Mounts("api").Single(m => m.Target == warehouse).Source;
        Assert.False(volume.StartsWith('.'), "the warehouse must be a named volume");
        Assert.Contains(Mounts("iceberg-rest"), m => m.Source == volume && m.Target == warehouse && m.ReadOnly);
        Assert.Contains(Mounts("trino"), m => m.Source == volume && m.Target == warehouse && m.ReadOnly);
        Assert.Equal("file://" + warehouse, Env("iceberg-rest")["CATALOG_WAREHOUSE"]);
        Assert.Equal("org.apache.iceberg.hadoop.HadoopCatalog", Env("iceberg-rest")["CATALOG_CATALOG__IMPL"]);

        // Trino's catalog points at the REST catalog service; lakehouse.properties is the catalog named "lakehouse".
        Assert.Contains(Mounts("trino"), m => m.Source == "./trino/catalog" && m.Target == "/etc/trino/catalog");
        var trino = File.ReadAllLines(Path.Combine(Docker, "trino", "catalog", "lakehouse.properties"))
            .Where(l => l.Length > 0 && l[0] != '#').Select(l => l.Split('=', 2)).ToDictionary(p => p[0].Trim(), p => p[1].Trim());
        Assert.Equal("iceberg", trino["connector.name"]);
        Assert.Equal("rest", trino["iceberg.catalog.type"]);
        var rest = new Uri(trino["iceberg.rest-catalog.uri"]);
        Assert.True(Services().ContainsKey(rest.Host), $"Trino's REST catalog host {rest.Host} is not a service");
        Assert.Equal(8181, rest.Port);
    }

    [Fact]
    public void The_image_builds_the_api_with_the_packaged_librdkafka_and_copies_only_files_that_exist()
    {
        var dockerfile = File.ReadAllLines(Path.Combine(Docker, "Dockerfile"));
        foreach (var copy in dockerfile.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal) && !l.Contains("--from", StringComparison.Ordinal)))
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..^1];
            foreach (var source in parts)
                Assert.True(File.Exists(Path.Combine(Repo, source)) || Directory.Exists(Path.Combine(Repo, source)), $"COPY source {source} does not exist");
        }

        // The projects restored before the sources are copied are exactly the API and what it references.
        var copiedProjects = dockerfile.Where(l => l.StartsWith("COPY Attribution.", StringComparison.Ordinal) && l.Contains(".csproj", StringComparison.Ordinal))
            .Select(l => Path.GetFileName(l.Split(' ')[1])).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["Attribution.Api.csproj", "Attribution.Domain.csproj", "Attribution.Projections.csproj"], copiedProjects);
        // librdkafka comes with the app from the librdkafka.redist package: a system copy would be a second one.
        Assert.DoesNotContain(dockerfile, l => l.Contains("librdkafka", StringComparison.Ordinal) && l.Contains("apt-get install", StringComparison.Ordinal));
        Assert.Contains(dockerfile, l => l.Contains("apt-get install", StringComparison.Ordinal) && l.Contains("libssl3", StringComparison.Ordinal));
        Assert.Contains(dockerfile, l => l.StartsWith("FROM debian:12", StringComparison.Ordinal));
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"Attribution.Api.dll\"]", dockerfile);
        var port = new Uri(Env("api")["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal)).Port;
        Assert.Contains(Seq(Service("api")["ports"], "api.ports").Cast<string>(), p => p.EndsWith($":{port}", StringComparison.Ordinal));
    }

    [Fact]
    public void Prometheus_scrapes_every_api_instance_at_metrics_and_loads_its_alert_rules()
    {
        var config = Map(Parse(File.ReadAllText(Path.Combine(Docker, "prometheus", "prometheus.yml"))), "prometheus.yml");
        var job = Map(Seq(config["scrape_configs"], "scrape_configs").Single(), "job");
        Assert.Equal("/metrics", job["metrics_path"]);
        var sd = Map(Seq(job["dns_sd_configs"], "dns_sd_configs").Single(), "dns_sd");
        Assert.Equal(["api"], Seq(sd["names"], "names"));
        var port = new Uri(Env("api")["ASPNETCORE_URLS"].Replace("+", "localhost", StringComparison.Ordinal)).Port;
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture), sd["port"]);

        var mounts = Mounts("prometheus").ToList();
        Assert.Contains(mounts, m => m.Target == "/etc/prometheus/prometheus.yml");
        foreach (var rules in Seq(config["rule_files"], "rule_files").Cast<string>())
            Assert.Contains(mounts, m => m.Target == rules && File.Exists(Path.Combine(Docker, m.Source)));
    }

    [Fact]
    public void Grafana_provisions_both_data_sources_and_the_dashboards_from_the_mounted_folder()
    {
        var mounts = Mounts("grafana").ToList();
        Assert.Contains(mounts, m => m.Source == "./grafana/provisioning" && m.Target == "/etc/grafana/provisioning");
        var dashboardsMount = mounts.Single(m => m.Source == "./grafana/dashboards").Target;
        var providers = Seq(Map(Parse(File.ReadAllText(Path.Combine(Docker, "grafana", "provisioning", "dashboards", "dashboards.yaml"))), "dashboards.yaml")["providers"], "providers");
        Assert.Equal(dashboardsMount, Map(Map(providers.Single(), "provider")["options"], "options")["path"]);
        Assert.EndsWith(".json", Env("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]);
        Assert.True(File.Exists(Path.Combine(Docker, "grafana", "dashboards", Path.GetFileName(Env("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]))));

        var sources = DataSources();
        Assert.Equal("http://prometheus:9090", sources["prometheus"]["url"]);
        var pg = sources["attribution-pg"];
        Assert.Equal("postgres:5432", pg["url"]);
        Assert.Equal("attribution", Map(pg["jsonData"], "jsonData")["database"]);
        Assert.Contains((string)pg["user"]!, File.ReadAllText(Path.Combine(Docker, "postgres", "init", "10-grafana-reader.sh")));
        // The password reaches Grafana through its environment, and the init script through PostgreSQL's.
        Assert.Equal("$GRAFANA_DB_PASSWORD", Map(pg["secureJsonData"], "secureJsonData")["password"]);
        Assert.Equal(Env("postgres")["GRAFANA_DB_PASSWORD"], Env("grafana")["GRAFANA_DB_PASSWORD"]);
    }

    private static Dictionary<string, Dictionary<string, object?>> DataSources() =>
        Seq(Map(Parse(File.ReadAllText(Path.Combine(Docker, "grafana", "provisioning", "datasources", "datasources.yaml"))), "datasources.yaml")["datasources"], "datasources")
            .Select(d => Map(d, "datasource")).ToDictionary(d => (string)d["uid"]!, d => d);

    private static IEnumerable<(string File, JsonObject Dashboard)> Dashboards() =>
        Directory.GetFiles(Path.Combine(Docker, "grafana", "dashboards"), "*.json").Order(StringComparer.Ordinal)
            .Select(f => (Path.GetFileName(f), JsonNode.Parse(File.ReadAllText(f))!.AsObject()));

    private static IEnumerable<JsonObject> Panels(JsonObject dashboard) =>
        dashboard["panels"]!.AsArray().Select(p => p!.AsObject())
            .SelectMany(p => new[] { p }.Concat(p["panels"]?.AsArray().Select(c => c!.AsObject()) ?? []));

    [Fact]
    public void Every_dashboard_is_well_formed_and_uses_provisioned_data_sources()
    {
        var sources = DataSources();
        var uids = new HashSet<string>(StringComparer.Ordinal);
        var dashboards = Dashboards().ToList();
        Assert.Equal(2, dashboards.Count);
        foreach (var (file, d) in dashboards)
        {
            Assert.True(uids.Add(d["uid"]!.GetValue<string>()), $"{file}: uid repeated");
            Assert.False(string.IsNullOrWhiteSpace(d["title"]?.GetValue<string>()), $"{file}: no title");
            Assert.True(d["schemaVersion"]!.GetValue<int>() >= 36, $"{file}: schemaVersion too old for provisioning");
            var ids = new HashSet<int>();
            foreach (var p in Panels(d))
            {
                Assert.True(ids.Add(p["id"]!.GetValue<int>()), $"{file}: panel id {p["id"]} repeated");
                var grid = p["gridPos"]!.AsObject();
                Assert.InRange(grid["x"]!.GetValue<int>() + grid["w"]!.GetValue<int>(), 1, 24);
                if (p["type"]!.GetValue<string>() == "row") continue;
                Assert.False(string.IsNullOrWhiteSpace(p["title"]?.GetValue<string>()), $"{file}: panel {p["id"]} has no title");
                var targets = p["targets"]!.AsArray();
                Assert.NotEmpty(targets);
                foreach (var t in targets)
                {
                    var uid = (t!["datasource"] ?? p["datasource"])!["uid"]!.GetValue<string>();
                    Assert.True(sources.ContainsKey(uid), $"{file}: panel '{p["title"]}' uses unknown data source {uid}");
                    Assert.Equal(sources[uid]["type"], ((t["datasource"] ?? p["datasource"])!)["type"]!.GetValue<string>());
                }
            }
        }
    }

    [Fact]
    public void The_dashboards_show_what_operators_and_the_business_asked_for()
    {
        var text = string.Join("\n", Dashboards().SelectMany(d => Panels(d.Dashboard)).Select(p => p.ToJsonString()));
        Assert.Contains("attribution_events_received_total", text, StringComparison.Ordinal);                   // ingest rate
        Assert.Contains("histogram_quantile(0.99, sum by (le) (rate(attribution_pipeline_end_to_end_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("attribution_pipeline_freshness_seconds", text, StringComparison.Ordinal);
        Assert.Contains("attribution_kafka_consumer_lag", text, StringComparison.Ordinal);
        Assert.Contains("DUPLICATE_EVENT", text, StringComparison.Ordinal);                                      // dup / fraud signals
        Assert.Contains("attribution_events_late_total", text, StringComparison.Ordinal);
        Assert.Contains("sum(revenue) / nullif(sum(cost), 0)", text, StringComparison.Ordinal);                  // ROAS from Gold
    }

    /// <summary>Metric names in a PromQL expression: strings, label matchers and ranges removed first.</summary>
    public static IEnumerable<string> MetricNames(string expr)
    {
        var bare = Regex.Replace(expr, "\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        bare = Regex.Replace(bare, @"\{[^}]*\}", "");
        bare = Regex.Replace(bare, @"\[[^\]]*\]", "");
        return Regex.Matches(bare, @"\b((?:attribution|http|process|dotnet|system_runtime)_[a-z0-9_]+|up)\b(?!\s*\()").Select(m => m.Value).Distinct();
    }

    [Fact]
    public async Task Every_metric_a_dashboard_or_an_alert_queries_is_exported_by_the_service()
    {
        var exported = await ExportedNames.Value;
        var queries = Dashboards().SelectMany(d => Panels(d.Dashboard))
            .SelectMany(p => p["targets"]?.AsArray() ?? [])
            .Select(t => t!["expr"]?.GetValue<string>()).OfType<string>()
            .Select(e => ("dashboard", e)).ToList();
        var alerts = Map(Parse(File.ReadAllText(Path.Combine(Docker, "prometheus", "alerts.yml"))), "alerts.yml");
        queries.AddRange(Seq(alerts["groups"], "groups").SelectMany(g => Seq(Map(g, "group")["rules"], "rules"))
            .Select(r => ("alert", (string)Map(r, "rule")["expr"]!)));
        Assert.True(queries.Count > 20);

        var missing = queries.SelectMany(q => MetricNames(q.Item2).Where(n => n != "up" && !exported.Contains(n)).Select(n => $"{q.Item1}: {n} in {q.Item2}")).ToList();
        Assert.True(missing.Count == 0, "not exported by the service:\n" + string.Join("\n", missing));
        Assert.Equal(["attribution_pipeline_end_to_end_duration_seconds_bucket", "attribution_events_audited_total", "http_requests_received_total"],
            MetricNames("histogram_quantile(0.99, sum by (le) (rate(attribution_pipeline_end_to_end_duration_seconds_bucket[5m]))) + sum(attribution_events_audited_total{reason=\"x_total\"}) " +
                        "/ sum by (endpoint) (http_requests_received_total{code=~\"5..\"})"));
    }

    [Fact]
    public async Task Every_postgres_panel_query_gives_the_known_answer_on_seeded_gold_rows()
    {
        var db = TestPostgres.NewDatabase("grafana");
        try
        {
            await using var engine = await EngineHost.MigrateAsync(db);
            var panels = Dashboards().SelectMany(d => Panels(d.Dashboard))
                .SelectMany(p => (p["targets"]?.AsArray() ?? []).Select(t => (Title: p["title"]!.GetValue<string>(), Sql: t!["rawSql"]?.GetValue<string>())))
                .Where(p => p.Sql is not null).ToList();

            // Three campaigns over three whole hours of the last day, and one impression older than the 24-hour range.
            var now = DateTime.UtcNow;
            var hour = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerHour, DateTimeKind.Utc);
            var seed = new (string Id, string Campaign, DateTime At, bool Clicked, bool Converted, decimal Cost, decimal Revenue, decimal OutOfWindow)[]
            {
                ("i1", "c1", hour.AddHours(-2).AddMinutes(10), true, true, 2, 5, 0),
                ("i2", "c1", hour.AddHours(-2).AddMinutes(20), false, false, 3, 0, 0),
                ("i3", "c1", hour.AddHours(-1).AddMinutes(5), true, true, 1, 4, 1.5m),
                ("i4", "c2", hour.AddHours(-1).AddMinutes(30), true, false, 4, 2, 0),
                ("i5", "c3", hour.AddHours(-3), false, false, 0, 0, 0),
                ("i6", "c1", hour.AddHours(-30), true, true, 100, 100, 100),
            };
            foreach (var r in seed)
            {
                await using var insert = engine.CreateCommand("""
                    INSERT INTO ad_performance_state (impression_id, campaign_id, is_clicked, is_converted, impression_time, cost, revenue,
                        eligible, is_late, late_by_ms, revenue_out_of_window, last_updated_ts, stream_version)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, true, false, 0, $8, now(), 1)
                    """);
                foreach (var v in new object[] { r.Id, r.Campaign, r.Clicked, r.Converted, r.At, r.Cost, r.Revenue, r.OutOfWindow })
                    insert.Parameters.Add(new NpgsqlParameter { Value = v });
                await insert.ExecuteNonQueryAsync();
            }

            string H(int hoursBack) => new DateTimeOffset(hour.AddHours(-hoursBack)).ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);
            var expected = new Dictionary<string, string[]>
            {
                // ROAS = revenue / cost, null without cost, best first.
                ["ROAS by campaign"] = ["c1|1.5", "c2|0.5", "c3|null"],
                // impressions, clicks, conversions, cost, revenue, roas, ctr, revenue out of window; by revenue.
                ["Campaign performance (Gold)"] = ["c1|3|2|2|6|9|1.5|0.6667|1.5", "c2|1|1|0|4|2|0.5|1|0", "c3|1|0|0|0|0|null|0|0"],
                // Per hour and campaign (rows of one hour in any order).
                ["ROAS per hour"] = [$"{H(1)}|c1|4", $"{H(1)}|c2|0.5", $"{H(2)}|c1|1", $"{H(3)}|c3|null"],
                ["Spend per hour"] = [$"{H(1)}|c1|1", $"{H(1)}|c2|4", $"{H(2)}|c1|5", $"{H(3)}|c3|0"],
            };
            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), panels.Select(p => p.Title).Order(StringComparer.Ordinal));
            foreach (var (title, sql) in panels)
            {
                // Grafana's macros, expanded the way the PostgreSQL data source does for a 24-hour range.
                var expanded = Regex.Replace(sql!, @"\$__timeFilter\((\w+)\)", "$1 BETWEEN now() - interval '24 hours' AND now()");
                expanded = Regex.Replace(expanded, @"\$__timeGroupAlias\((\w+), '1h'\)", "floor(extract(epoch from $1)/3600)*3600 AS \"time\"");
                Assert.DoesNotContain("$__", expanded, StringComparison.Ordinal);
                await using var cmd = engine.CreateCommand(expanded);
                await using var reader = await cmd.ExecuteReaderAsync();
                var rows = new List<string>();
                while (await reader.ReadAsync())
                    rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => Cell(reader.GetValue(i)))));
                var time = reader.GetColumnSchema().Any(c => c.ColumnName == "time");
                IEnumerable<string> want = time ? expected[title].Order(StringComparer.Ordinal) : expected[title];
                Assert.Equal(want, time ? rows.Order(StringComparer.Ordinal) : rows);
            }
        }
        finally
        {
            TestPostgres.Drop(db);
        }

        static string Cell(object value) => value switch
        {
            DBNull => "null",
            decimal d => d.ToString("0.##########", System.Globalization.CultureInfo.InvariantCulture),
            double d => d.ToString("0.##########", System.Globalization.CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => value.ToString()!,
        };
    }

    /// <summary>The names (families and samples) of a scrape of the whole service after traffic through every path.</summary>
    private static async Task<HashSet<string>> ScrapeServiceAsync()
    {
        using var service = new ServiceUnderScrape();
        using var client = service.Client();
        var now = DateTime.UtcNow;
        string Line(string id, string type, string imp, double? agoHours = null) => new JsonObject
        {
            ["event_id"] = id, ["event_type"] = type, ["impression_id"] = imp, ["campaign_id"] = "camp-d",
            ["event_timestamp"] = agoHours is { } h ? new DateTimeOffset(now.AddHours(-h)).ToUnixTimeSeconds() : null,
        }.ToJsonString(new JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        using (var r = await client.PostAsync(new Uri("/api/v1/events", UriKind.Relative), ServiceUnderScrape.Ndjson(
                   [Line("d1", "IMPRESSION", "d-1"), Line("d1", "IMPRESSION", "d-1"), Line("d2", "CLICK", "d-1", 2), "{\"event_type\":\"CLICK\"}"])))
            Assert.Equal(202, (int)r.StatusCode);
        (await client.GetAsync(new Uri("/pixel?impression_id=d-2&campaign_id=camp-d", UriKind.Relative))).Dispose();
        (await client.GetAsync(new Uri(ApiFactory.SignedClick("d-2", "https://example.com/"), UriKind.Relative))).Dispose();
        (await client.PostAsync(new Uri("/api/v1/conversions", UriKind.Relative),
            new StringContent("{\"impression_id\":\"d-2\",\"conversion_value\":3}", System.Text.Encoding.UTF8, "application/json"))).Dispose();
        await service.WaitForDrainAsync(5);
        // Real job runs report the jobs' and the lakehouse's series.
        var runner = service.Services.GetRequiredService<Attribution.Projections.Jobs.MaintenanceJobRunner>();
        Assert.Equal(2, (await runner.RunAsync("export-gold", null, CancellationToken.None)).RowsTouched);
        var scraped = await service.ScrapeDrainedAsync(client);
        return scraped.Families.Keys.Concat(scraped.AllSamples.Select(s => s.Name)).ToHashSet(StringComparer.Ordinal);
    }
}
