using Attribution.Domain.Attribution;
using Npgsql;

namespace Attribution.Projections.Replays;

public static class ReplayStates
{
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
}

/// <summary>One what-if replay as the whatif_replays table holds it.</summary>
public sealed record ReplayRecord(
    string Id, string State, double LookbackDays, double LateThresholdMinutes, DateTime? From, DateTime? To,
    double LiveLookbackDays, double LiveLateThresholdMinutes, long Done, long? Total, long Changed,
    DateTime StartedAt, DateTime? FinishedAt, string? Error)
{
    public string Schema => ShadowGold.SchemaOf(Id);

    public AttributionPolicy Rules => new(TimeSpan.FromDays(LookbackDays), TimeSpan.FromMinutes(LateThresholdMinutes));

    public AttributionPolicy LiveRules => new(TimeSpan.FromDays(LiveLookbackDays), TimeSpan.FromMinutes(LiveLateThresholdMinutes));

    public ImpressionRange Range => new(From, To);
}

/// <summary>The whatif_replays table: each replay's parameters, state and progress.</summary>
public sealed class ReplayStore(NpgsqlDataSource db)
{
    private const string Columns = """
        replay_id, state, lookback_days, late_threshold_minutes, impressions_from, impressions_to, live_lookback_days,
        live_late_threshold_minutes, done, total, changed, started_at, finished_at, error
        """;

    /// <summary>Records a new running replay, or answers false when another one is running (one at a time).</summary>
    public static async Task<ReplayRecord?> TryInsertAsync(NpgsqlConnection conn, string id, AttributionPolicy rules, AttributionPolicy live,
        ImpressionRange range, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(range);
        await using var cmd = new NpgsqlCommand($"""
            INSERT INTO whatif_replays (replay_id, schema_name, state, lookback_days, late_threshold_minutes, impressions_from,
                impressions_to, live_lookback_days, live_late_threshold_minutes)
            VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8)
            ON CONFLICT DO NOTHING
            RETURNING {Columns}
            """, conn);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = ShadowGold.SchemaOf(id) });
        cmd.Parameters.Add(new() { Value = rules.Lookback.TotalDays });
        cmd.Parameters.Add(new() { Value = rules.LateThreshold.TotalMinutes });
        cmd.Parameters.Add(new() { Value = (object?)range.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)range.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = live.Lookback.TotalDays });
        cmd.Parameters.Add(new() { Value = live.LateThreshold.TotalMinutes });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<ReplayRecord?> GetAsync(string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM whatif_replays WHERE replay_id = $1");
        cmd.Parameters.Add(new() { Value = id });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Every replay, newest first.</summary>
    public async Task<List<ReplayRecord>> ListAsync(CancellationToken ct) => await ReadAllAsync($"SELECT {Columns} FROM whatif_replays ORDER BY started_at DESC, replay_id", ct);

    public async Task<List<ReplayRecord>> RunningAsync(CancellationToken ct) => await ReadAllAsync($"SELECT {Columns} FROM whatif_replays WHERE state = 'running'", ct);

    public static async Task ProgressAsync(NpgsqlConnection conn, string id, long done, long? total, long changed, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("UPDATE whatif_replays SET done = $2, total = $3, changed = $4 WHERE replay_id = $1", conn);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = done });
        cmd.Parameters.Add(new() { Value = (object?)total ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint });
        cmd.Parameters.Add(new() { Value = changed });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Ends a running replay: completed, or failed with why. A replay that is no longer running stays as it is.</summary>
    public async Task FinishAsync(string id, string? error, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("""
            UPDATE whatif_replays SET state = $2, error = $3, finished_at = clock_timestamp()
            WHERE replay_id = $1 AND state = 'running'
            """);
        cmd.Parameters.Add(new() { Value = id });
        cmd.Parameters.Add(new() { Value = error is null ? ReplayStates.Completed : ReplayStates.Failed });
        cmd.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task DeleteAsync(string id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("DELETE FROM whatif_replays WHERE replay_id = $1");
        cmd.Parameters.Add(new() { Value = id });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<List<ReplayRecord>> ReadAllAsync(string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var list = new List<ReplayRecord>();
        while (await reader.ReadAsync(ct)) list.Add(Read(reader));
        return list;
    }

    private static ReplayRecord Read(NpgsqlDataReader r)
    {
        DateTime? T(int i) => r.IsDBNull(i) ? null : DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);
        return new ReplayRecord(r.GetString(0), r.GetString(1), r.GetDouble(2), r.GetDouble(3), T(4), T(5), r.GetDouble(6), r.GetDouble(7),
            r.GetInt64(8), r.IsDBNull(9) ? null : r.GetInt64(9), r.GetInt64(10), T(11)!.Value, T(12), r.IsDBNull(13) ? null : r.GetString(13));
    }
}
