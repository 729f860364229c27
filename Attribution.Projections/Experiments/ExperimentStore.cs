using Attribution.Domain.Experiments;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Experiments;

/// <summary>The experiments table, and each arm's counts read from Gold.</summary>
public sealed class ExperimentStore(NpgsqlDataSource db)
{
    private const string Columns = "experiment_id, campaign_id, creative_ids, weights, start_ts, end_ts, alpha, mde";

    /// <summary>Stores a new experiment; null when one with that id exists already.</summary>
    public async Task<Experiment?> TryCreateAsync(Experiment experiment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        await using var cmd = db.CreateCommand($"""
            INSERT INTO experiments ({Columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (experiment_id) DO NOTHING
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(new() { Value = experiment.ExperimentId });
        cmd.Parameters.Add(new() { Value = experiment.CampaignId });
        cmd.Parameters.Add(new() { Value = experiment.Arms.Select(a => a.CreativeId).ToArray() });
        cmd.Parameters.Add(new() { Value = experiment.Arms.Select(a => a.Weight).ToArray() });
        cmd.Parameters.Add(new() { Value = experiment.Start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)experiment.End ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = experiment.Alpha });
        cmd.Parameters.Add(new() { Value = experiment.Mde });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    public async Task<Experiment?> GetAsync(string experimentId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM experiments WHERE experiment_id = $1");
        cmd.Parameters.Add(new() { Value = experimentId });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? Read(reader) : null;
    }

    /// <summary>Every experiment, the newest start first.</summary>
    public async Task<List<Experiment>> ListAsync(CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {Columns} FROM experiments ORDER BY start_ts DESC, experiment_id");
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var all = new List<Experiment>();
        while (await reader.ReadAsync(ct)) all.Add(Read(reader));
        return all;
    }

    /// <summary>Per arm: the campaign's impressions with the arm's creative and impression time in [start, end), and
    /// how many were clicked and converted. Gold holds valid impressions only: duplicates and invalid events never reach it.</summary>
    public async Task<List<ArmCounts>> ArmCountsAsync(Experiment experiment, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(experiment);
        await using var cmd = db.CreateCommand("""
            SELECT creative_id, count(*), count(*) FILTER (WHERE is_clicked), count(*) FILTER (WHERE is_converted)
            FROM ad_performance_state
            WHERE campaign_id = $1 AND creative_id = ANY($2) AND impression_time >= $3 AND ($4::timestamptz IS NULL OR impression_time < $4)
            GROUP BY creative_id
            """);
        cmd.Parameters.Add(new() { Value = experiment.CampaignId });
        cmd.Parameters.Add(new() { Value = experiment.Arms.Select(a => a.CreativeId).ToArray() });
        cmd.Parameters.Add(new() { Value = experiment.Start, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = (object?)experiment.End ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var counts = new List<ArmCounts>();
        while (await reader.ReadAsync(ct)) counts.Add(new ArmCounts(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        return counts;
    }

    private static Experiment Read(NpgsqlDataReader r)
    {
        var creatives = r.GetFieldValue<string[]>(2);
        var weights = r.GetFieldValue<double[]>(3);
        return new Experiment(r.GetString(0), r.GetString(1), creatives.Zip(weights, (c, w) => new ExperimentArm(c, w)).ToList(),
            DateTime.SpecifyKind(r.GetDateTime(4), DateTimeKind.Utc), r.IsDBNull(5) ? null : DateTime.SpecifyKind(r.GetDateTime(5), DateTimeKind.Utc),
            r.GetDouble(6), r.GetDouble(7));
    }
}
