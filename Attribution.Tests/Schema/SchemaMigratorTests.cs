using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using Npgsql;

namespace Attribution.Tests.Schema;

public sealed class SchemaMigratorTests
{
    [Fact]
    public async Task A_database_the_service_creates_compares_text_byte_by_byte_and_keeps_the_servers_character_classes()
    {
        var connectionString = TestPostgres.NewDatabaseName("collate");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);

            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT d.datcollate, d.datctype = t.datctype
                FROM pg_database d, pg_database t
                WHERE d.datname = current_database() AND t.datname = 'template0'
                """, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("C", reader.GetString(0));
            Assert.True(reader.GetBoolean(1));
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }

    [Fact]
    public async Task A_database_migrated_when_jobs_ran_on_quartz_loses_the_quartz_store_and_the_run_history_and_keeps_everything_else()
    {
        var connectionString = TestPostgres.NewDatabaseName("unquartz");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);
            await using var db = NpgsqlDataSource.Create(connectionString);
            await SchemaMigrator.MigrateAsync(db, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            // As such a database stood before migration 9: two of Quartz's tables (one referencing the other), a run.
            await using (var cmd = db.CreateCommand("""
                DELETE FROM schema_migrations WHERE version = 9;
                CREATE TABLE qrtz_job_details (sched_name text, job_name text, job_group text, PRIMARY KEY (sched_name, job_name, job_group));
                CREATE TABLE qrtz_triggers (sched_name text, job_name text, job_group text,
                    FOREIGN KEY (sched_name, job_name, job_group) REFERENCES qrtz_job_details);
                CREATE TABLE job_runs (id bigint PRIMARY KEY, job_name text);
                INSERT INTO job_runs VALUES (1, 'export-bronze');
                INSERT INTO pending_conversions (event_id, click_id, raw_payload, ingest_time) VALUES ('kept-1', 'kept', '{}'::json, now());
                """))
            {
                await cmd.ExecuteNonQueryAsync();
            }

            await SchemaMigrator.MigrateAsync(db, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

            Assert.Equal(0, await Db.CountAsync(db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND (tablename LIKE 'qrtz%' OR tablename = 'job_runs')"));
            Assert.Equal(1, await Db.CountAsync(db, "SELECT count(*) FROM pending_conversions WHERE click_id = 'kept'"));
            Assert.Equal(SchemaMigrator.Migrations.Count, await Db.CountAsync(db, "SELECT count(*) FROM schema_migrations"));
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }

    [Fact]
    public async Task A_database_migrated_before_landing_domains_gets_an_empty_list_on_every_campaign_version_and_its_campaigns_still_read()
    {
        var connectionString = TestPostgres.NewDatabaseName("landing");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);
            await using var db = NpgsqlDataSource.Create(connectionString);
            await SchemaMigrator.MigrateAsync(db, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            // As such a database stood before migration 10: dim_campaigns and its staging without the column, a version and a staged change.
            await using (var cmd = db.CreateCommand("""
                DELETE FROM schema_migrations WHERE version = 10;
                ALTER TABLE dim_campaigns DROP COLUMN landing_domains;
                ALTER TABLE dim_campaigns_staging DROP COLUMN landing_domains;
                ALTER TABLE dim_campaigns_rejections DROP COLUMN landing_domains;
                INSERT INTO dim_campaigns VALUES (nextval('dim_campaigns_key_seq'), 'camp-old', 'Old', 10, 'DAILY', 'ACTIVE', '2026-01-01T00:00Z', '9999-12-31T00:00Z', true);
                INSERT INTO dim_campaigns_staging (campaign_id, effective_at, budget_amount) VALUES ('camp-old', '2026-02-01T00:00Z', 20);
                """))
            {
                await cmd.ExecuteNonQueryAsync();
            }

            await SchemaMigrator.MigrateAsync(db, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

            var campaigns = new Attribution.Projections.Campaigns.CampaignDimension(db, new Attribution.Projections.Campaigns.LandingDomainCache(db, TimeProvider.System));
            var old = await campaigns.CurrentAsync("camp-old", CancellationToken.None);
            Assert.NotNull(old);
            Assert.True(old.LandingDomains.IsEmpty);
            var counts = await campaigns.MergeStagedAsync(CancellationToken.None);
            Assert.Equal((1, 1), (counts.Opened, counts.Closed));
            var merged = await campaigns.CurrentAsync("camp-old", CancellationToken.None);
            Assert.Equal((20m, true), (merged!.BudgetAmount, merged.LandingDomains.IsEmpty));
            Assert.Equal(SchemaMigrator.Migrations.Count, await Db.CountAsync(db, "SELECT count(*) FROM schema_migrations"));
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }
}
