using System.Globalization;
using Attribution.Domain.Attribution;
using Attribution.Projections.Fraud;
using Npgsql;

namespace Attribution.Projections.Config;

/// <summary>Configuration section "Attribution".</summary>
public sealed class AttributionOptions
{
    public int LookbackDays { get; set; } = 7;
    public int LateThresholdMinutes { get; set; } = 60;
}

/// <summary>The attribution_config table: the lookback and late threshold every fold uses, read together with the fraud
/// rules in force.</summary>
public sealed class AttributionConfigStore(NpgsqlDataSource dataSource)
{
    public const string LookbackDaysKey = "lookback_days";
    public const string LateThresholdMinutesKey = "late_threshold_minutes";

    /// <summary>Seeds the table from configuration. A configuration value that changed since the last seed wins;
    /// otherwise the table keeps what was set through the API.</summary>
    public async Task SeedAsync(AttributionOptions options, CancellationToken ct = default)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var (key, value) in Entries(options))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                INSERT INTO attribution_config (key, value, seeded_value) VALUES ($1, $2, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, seeded_value = EXCLUDED.value, updated_at = now()
                WHERE attribution_config.seeded_value <> EXCLUDED.seeded_value
                """) { Parameters = { new() { Value = key }, new() { Value = value } } });
        }

        await batch.ExecuteNonQueryAsync(ct);
    }

    public async Task<AttributionPolicy> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand("SELECT key, value FROM attribution_config", conn, tx);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var values = new Dictionary<string, string>();
        while (await reader.ReadAsync(ct)) values[reader.GetString(0)] = reader.GetString(1);
        var policy = AttributionPolicy.Default;
        if (values.TryGetValue(LookbackDaysKey, out var days))
            policy = policy with { Lookback = TimeSpan.FromDays(double.Parse(days, CultureInfo.InvariantCulture)) };
        if (values.TryGetValue(LateThresholdMinutesKey, out var minutes))
            policy = policy with { LateThreshold = TimeSpan.FromMinutes(double.Parse(minutes, CultureInfo.InvariantCulture)) };
        await reader.DisposeAsync();
        // The fraud rules are part of what a fold applies: every reader of the policy gets them with it.
        return policy with { Fraud = await FraudSettingsStore.ReadAsync(conn, tx, ct) };
    }

    public async Task<AttributionPolicy> ReadAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, ct);
    }

    public async Task UpdateAsync(double? lookbackDays, double? lateThresholdMinutes, CancellationToken ct = default)
    {
        await using var batch = dataSource.CreateBatch();
        void Set(string key, double? value)
        {
            if (value is null) return;
            batch.BatchCommands.Add(new NpgsqlBatchCommand(
                "UPDATE attribution_config SET value = $2, updated_at = now() WHERE key = $1")
            {
                Parameters = { new() { Value = key }, new() { Value = value.Value.ToString(CultureInfo.InvariantCulture) } },
            });
        }

        Set(LookbackDaysKey, lookbackDays);
        Set(LateThresholdMinutesKey, lateThresholdMinutes);
        if (batch.BatchCommands.Count > 0) await batch.ExecuteNonQueryAsync(ct);
    }

    private static IEnumerable<(string Key, string Value)> Entries(AttributionOptions o)
    {
        yield return (LookbackDaysKey, o.LookbackDays.ToString(CultureInfo.InvariantCulture));
        yield return (LateThresholdMinutesKey, o.LateThresholdMinutes.ToString(CultureInfo.InvariantCulture));
    }
}
