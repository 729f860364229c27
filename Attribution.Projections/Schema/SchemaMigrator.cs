using System.Reflection;
using Attribution.Projections.EventStore;
using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.Schema;

/// <summary>A versioned schema change; its SQL lives next to the projection that owns the tables. A change that moves
/// data through our own code (not SQL alone) runs <see cref="Code"/> in the same transaction, after the scripts.</summary>
public sealed record Migration(int Version, string Name, IReadOnlyList<string> Scripts, Func<MigrationContext, Task>? Code = null);

/// <summary>What a migration's code gets: its transaction, and Marten's store for this database.</summary>
public sealed record MigrationContext(NpgsqlConnection Connection, NpgsqlTransaction Transaction, Marten.IDocumentStore Store, ILogger Logger, CancellationToken Cancellation);

/// <summary>Creates the database if needed and applies the migrations that are not applied yet, under a lock so
/// that several instances starting together do not race.</summary>
public static class SchemaMigrator
{
    // Append only: a released migration never changes, a later one amends it. The one exception is a script whose
    // tables a later migration drops (migration 2's Quartz store and job runs, dropped by 9): a new database skips it.
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "event store, Gold, audit, offsets, attribution config",
            ["EventStore.EventStore.sql", "Gold.Gold.sql", "Audit.Audit.sql", "Pipeline.Pipeline.sql", "Config.Config.sql"]),
        new(2, "lakehouse export state, Gold change marker, retired events",
            ["Gold.GoldChangeSeq.sql", "Lakehouse.Export.Export.sql", "EventStore.Retired.sql"]),
        new(3, "hourly and daily metrics rollups (filled from Gold), dim_campaigns SCD2 with its staging table, analytics indexes",
            ["Rollups.Rollups.sql", "Campaigns.Campaigns.sql", "Analytics.Analytics.sql", "Rollups.RollupBackfill.sql"]),
        new(4, "campaign tier of the hourly and daily rollups, filled from the full tiers",
            ["Rollups.CampaignRollups.sql", "Rollups.CampaignRollupBackfill.sql"]),
        new(5, "Gold's last_updated_ts defaults to now() for rows written by COPY", ["Gold.GoldCopyDefaults.sql"]),
        new(6, "geo × platform tier of the hourly and daily rollups, filled from the full tiers",
            ["Rollups.GeoPlatformRollups.sql", "Rollups.GeoPlatformRollupBackfill.sql"]),
        new(7, "weekly level of every rollup tier, filled from the daily tables",
            ["Rollups.WeeklyRollups.sql", "Rollups.WeeklyRollupBackfill.sql"]),
        new(8, "rollup tables keep half of each page free, so that adding a delta to a cell is a heap-only update",
            ["Rollups.RollupFillFactor.sql"]),
        new(9, "jobs run on Hangfire: the Quartz job store and the job_runs history are dropped", ["Jobs.RemoveQuartz.sql"]),
        new(10, "campaign landing domains (SCD2 attribute) for the click redirect's allow-list", ["Campaigns.CampaignLandingDomains.sql"]),
        new(11, "ingest keys made through the admin API (signed postbacks and batches)", ["Ingest.IngestKeys.sql"]),
        new(12, "what-if replays: their parameters, state and progress (each one's shadow Gold is a schema of its own)", ["Replays.Replays.sql"]),
        new(13, "the event store moves into Marten's tables (mt_streams, mt_events); events becomes a view over them",
            [], EventStoreMigration.MoveIntoMartenAsync),
        new(14, "dimension merge marker for the dims.* Iceberg export; dim_users (SCD2 user profiles as bands)",
            ["Campaigns.CampaignMergeSeq.sql", "Users.Users.sql"]),
        new(15, "A/B tests of creatives: experiments with their arms, window, alpha and minimum detectable effect", ["Experiments.Experiments.sql"]),
        new(16, "the events view shows each event's ip_address and user_agent (fraud rules, Bronze)", ["EventStore.EventsView.sql"]),
        new(17, "the fraud rules in force (thresholds, bot patterns, IP blocklist), seeded from Fraud:*", ["Fraud.Fraud.sql"]),
        new(18, "Gold gains click_count, invalid_click_count, fraud_suspected and fraud_reasons (clicks counted from the event store)", ["Gold.GoldFraud.sql"]),
        new(19, "judged clicks by address and user, for the burst rules (CLICK_FLOODING, USER_CLICK_VELOCITY) across impressions",
            ["Fraud.JudgedClicks.sql"]),
        new(20, "billing: campaigns gain billing_model and cpc_rate (SCD2); closed billing periods and the events they settled",
            ["Campaigns.CampaignBilling.sql", "Billing.Billing.sql"]),
        new(22, "every event a fraud rule flags, with the spend and revenue its flag excludes (fraud summary and event list)",
            ["Fraud.FlaggedEvents.sql"]),
        new(23, "settled billing events keep their verdict and price, so a verdict changed after the close is reversed in the next open month",
            ["Billing.BillingSettledVerdicts.sql"]),
        new(24, "the audience cube: per day and campaign and per hour, sums and user sketches (hll) of every grouping by up to two bands",
            ["Users.AudienceCube.sql"]),
        new(25, "the audience facts: each impression of the cube's days with its user's groups as codes, for the groupings the cube does not cover",
            ["Users.AudienceFacts.sql"]),
    ];

    public static async Task MigrateAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await Exec(conn, null, "SELECT pg_advisory_lock(hashtext('attribution.schema'))", ct);
        try
        {
            await Exec(conn, null, """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    integer PRIMARY KEY,
                    name       text        NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, ct);
            var applied = new HashSet<int>();
            await using (var cmd = new NpgsqlCommand("SELECT version FROM schema_migrations", conn))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct)) applied.Add(reader.GetInt32(0));
            }

            // Marten's store is built only when something needs it: a Marten schema to apply or a migration with code.
            var store = new Lazy<DocumentStore>(() => MartenSetup.CreateStore(dataSource));
            try
            {
                await ApplyPendingAsync(conn, applied, store, logger, ct);
            }
            finally
            {
                if (store.IsValueCreated) await store.Value.DisposeAsync();
            }
        }
        finally
        {
            await Exec(conn, null, "SELECT pg_advisory_unlock(hashtext('attribution.schema'))", CancellationToken.None);
        }
    }

    /// <summary>Marten's schema when its version changed, then every migration not applied yet, each in a transaction.</summary>
    private static async Task ApplyPendingAsync(
        NpgsqlConnection conn, HashSet<int> applied, Lazy<DocumentStore> store, ILogger logger, CancellationToken ct)
    {
        var martenApplied = await MartenSchema.EnsureAsync(conn, store, logger, ct);
        foreach (var m in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await using var tx = await conn.BeginTransactionAsync(ct);
            foreach (var script in m.Scripts) await Exec(conn, tx, ReadScript(script), ct);
            if (m.Code is { } code) await code(new MigrationContext(conn, tx, store.Value, logger, ct));
            await using (var cmd = new NpgsqlCommand("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", conn, tx))
            {
                cmd.Parameters.Add(new() { Value = m.Version });
                cmd.Parameters.Add(new() { Value = m.Name });
                await cmd.ExecuteNonQueryAsync(ct);
            }

            await tx.CommitAsync(ct);
            logger.LogInformation("Schema migration {Version} applied: {Name}", m.Version, m.Name);
        }

        // Marten's own schema update drops indexes it does not know of on its tables: ours come back after it.
        if (martenApplied && applied.Contains(13)) await Exec(conn, null, ReadScript(EventStoreMigration.ViewScript), ct);
    }

    /// <summary>A newcomer's connection string names a database that does not exist yet: create it.</summary>
    public static async Task EnsureDatabaseAsync(string connectionString, CancellationToken ct = default)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        if (string.IsNullOrEmpty(target.Database)) return;
        var admin = new NpgsqlConnectionStringBuilder(connectionString) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", conn);
        exists.Parameters.Add(new() { Value = target.Database });
        if (await exists.ExecuteScalarAsync(ct) is not null) return;
        try
        {
            // A database name cannot be a parameter; quote_ident makes the identifier safe.
            await using var quote = new NpgsqlCommand("SELECT quote_ident($1)", conn);
            quote.Parameters.Add(new() { Value = target.Database });
            var quoted = (string)(await quote.ExecuteScalarAsync(ct))!;
            // Byte order for every text comparison: our keys are identifiers, and under a libc collation (the
            // cluster's C.UTF-8 here) every B-tree step of the pipeline's probes and inserts went through strcoll
            // (+5 % pipeline throughput without it). Over UTF-8, byte order is code point order, the order glibc's
            // C.UTF-8 gives too. Character classes (upper, lower) stay the server's.
            await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted} TEMPLATE template0 LC_COLLATE 'C'", conn);
            await create.ExecuteNonQueryAsync(ct);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Another instance created it first.
        }
    }

    internal static string ReadScript(string name)
    {
        var assembly = Assembly.GetExecutingAssembly();
        using var stream = assembly.GetManifestResourceStream($"Attribution.Projections.{name}")
                           ?? throw new InvalidOperationException($"Migration script {name} is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    internal static async Task Exec(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
