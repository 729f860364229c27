using Marten;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Attribution.Projections.EventStore;

/// <summary>
/// Marten migrates its own tables (mt_streams, mt_events, its functions and sequence). It does so here, once per
/// Marten version: its schema comparison reads the catalog for a few hundred milliseconds, and it drops indexes it
/// did not make (our event-time index on mt_events), so it runs when the Marten the service ships with changed.
/// </summary>
public static class MartenSchema
{
    /// <summary>Applies Marten's schema when this database has not seen this Marten version; true when it did.</summary>
    public static async Task<bool> EnsureAsync(NpgsqlConnection conn, Lazy<DocumentStore> store, ILogger logger, CancellationToken ct)
    {
        var version = typeof(IDocumentStore).Assembly.GetName().Version!.ToString();
        await using (var create = new NpgsqlCommand(
            "CREATE TABLE IF NOT EXISTS marten_schema (marten_version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", conn))
            await create.ExecuteNonQueryAsync(ct);
        await using (var seen = new NpgsqlCommand("SELECT 1 FROM marten_schema WHERE marten_version = $1", conn))
        {
            seen.Parameters.Add(new() { Value = version });
            if (await seen.ExecuteScalarAsync(ct) is not null) return false;
        }

        await store.Value.Storage.ApplyAllConfiguredChangesToDatabaseAsync(JasperFx.AutoCreate.CreateOrUpdate);
        await using (var mark = new NpgsqlCommand("INSERT INTO marten_schema (marten_version) VALUES ($1) ON CONFLICT DO NOTHING", conn))
        {
            mark.Parameters.Add(new() { Value = version });
            await mark.ExecuteNonQueryAsync(ct);
        }

        logger.LogInformation("Marten {Version} schema applied (mt_streams, mt_events)", version);
        return true;
    }
}
