using System.Text.Json;
using Attribution.Domain.Fraud;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Fraud;

/// <summary>Configuration section "Fraud": the rules' defaults, seeded into fraud_settings.</summary>
public sealed class FraudOptions
{
    public int ClicksPerIpPerMinute { get; set; } = FraudSettings.Default.ClicksPerIpPerMinute;
    /// <summary>Null is the default list: configuration binding appends to an array that has elements already.</summary>
    public string[]? BotUserAgentPatterns { get; set; }
    public string[] IpBlocklist { get; set; } = [];
    public int MinClickToConversionSeconds { get; set; } = FraudSettings.Default.MinClickToConversionSeconds;
    public int ClicksPerUserPerMinute { get; set; } = FraudSettings.Default.ClicksPerUserPerMinute;
    public double AnomalyThreshold { get; set; } = FraudSettings.Default.AnomalyThreshold;

    /// <summary>The settings these options make, or why they cannot be used (a service must not start on a bad list).</summary>
    public FraudSettings ToSettings()
    {
        var patterns = BotUserAgentPatterns ?? [.. FraudSettings.DefaultBotPatterns];
        if (FraudSettings.Check(ClicksPerIpPerMinute, patterns, MinClickToConversionSeconds, ClicksPerUserPerMinute, AnomalyThreshold) is { } error)
            throw new InvalidOperationException($"Fraud configuration: {error}");
        if (!FraudSettings.TryParseBlocklist(IpBlocklist, out var blocklist, out var listError))
            throw new InvalidOperationException($"Fraud:IpBlocklist: {listError}");
        return new FraudSettings(ClicksPerIpPerMinute, patterns, blocklist, MinClickToConversionSeconds, ClicksPerUserPerMinute, AnomalyThreshold);
    }
}

/// <summary>The rules document: the shape of GET/PUT /api/v1/fraud/rules, of a backtest's rules, and of the stored row.</summary>
public sealed record FraudRulesDocument(
    int ClicksPerIpPerMinute, IReadOnlyList<string> BotUserAgentPatterns, IReadOnlyList<string> IpBlocklist,
    int MinClickToConversionSeconds, int ClicksPerUserPerMinute, double AnomalyThreshold)
{
    public static FraudRulesDocument From(FraudSettings s) => new(s.ClicksPerIpPerMinute, s.BotUserAgentPatterns,
        s.IpBlocklist.Select(n => n.ToString()).ToList(), s.MinClickToConversionSeconds, s.ClicksPerUserPerMinute, s.AnomalyThreshold);

    public FraudSettings ToSettings() => FraudSettings.TryParseBlocklist(IpBlocklist, out var list, out var error)
        ? new FraudSettings(ClicksPerIpPerMinute, BotUserAgentPatterns, list, MinClickToConversionSeconds, ClicksPerUserPerMinute, AnomalyThreshold)
        : throw new InvalidDataException($"stored fraud settings: {error}");
}

/// <summary>The fraud_settings row: the rules every fold and every fraud report uses.</summary>
public sealed class FraudSettingsStore(NpgsqlDataSource dataSource)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>Seeds the row from configuration; a configuration that changed since the last seed wins.</summary>
    public async Task SeedAsync(FraudOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var document = JsonSerializer.Serialize(FraudRulesDocument.From(options.ToSettings()), Json);
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO fraud_settings (settings, seeded) VALUES ($1, $1)
            ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, seeded = EXCLUDED.seeded, updated_at = now()
            WHERE fraud_settings.seeded <> EXCLUDED.seeded
            """);
        cmd.Parameters.Add(new() { Value = document, NpgsqlDbType = NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public static async Task<FraudSettings> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, CancellationToken ct = default)
    {
        await using var cmd = new NpgsqlCommand("SELECT settings::text FROM fraud_settings", conn, tx);
        return await cmd.ExecuteScalarAsync(ct) is string text
            ? JsonSerializer.Deserialize<FraudRulesDocument>(text, Json)!.ToSettings()
            : FraudSettings.Default;
    }

    public async Task<FraudSettings> ReadAsync(CancellationToken ct = default)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, ct);
    }

    public async Task UpdateAsync(FraudSettings settings, CancellationToken ct = default)
    {
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO fraud_settings (settings, seeded) VALUES ($1, $1)
            ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, updated_at = now()
            """);
        cmd.Parameters.Add(new() { Value = JsonSerializer.Serialize(FraudRulesDocument.From(settings), Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
