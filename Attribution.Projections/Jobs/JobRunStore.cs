using Npgsql;

namespace Attribution.Projections.Jobs;

/// <summary>One run of a job as job_runs holds it.</summary>
public sealed record JobRun(
    long Id,
    string Job,
    string Trigger,
    string Instance,
    DateTime StartedAt,
    DateTime? FinishedAt,
    string Outcome,
    double? Progress,
    string? ProgressMessage,
    long RowsTouched,
    long FilesTouched,
    string? Summary,
    string? Error,
    double DurationMs);

/// <summary>The job_runs table: run history and progress.</summary>
public sealed class JobRunStore(NpgsqlDataSource dataSource)
{
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
    public const string Skipped = "skipped";
    public const string Abandoned = "abandoned";

    private const string Columns = """
        id, job_name, trigger_kind, instance_id, started_at, finished_at, outcome, progress, progress_message,
        rows_touched, files_touched, summary, error,
        extract(epoch FROM coalesce(finished_at, clock_timestamp()) - started_at) * 1000
        """;

    /// <summary>Opens a run. The caller holds the job's lock, so a run of the same job still 'running' belongs to a
    /// process that died: it is closed as abandoned first.</summary>
    public async Task<long> StartAsync(string job, string trigger, string instance, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using (var abandon = new NpgsqlCommand("""
            UPDATE job_runs SET outcome = 'abandoned', finished_at = clock_timestamp(),
                error = coalesce(error, 'the process running it stopped before the run finished')
            WHERE job_name = $1 AND outcome = 'running'
            """, conn))
        {
            abandon.Parameters.Add(new() { Value = job });
            await abandon.ExecuteNonQueryAsync(ct);
        }

        await using var insert = new NpgsqlCommand(
            "INSERT INTO job_runs (job_name, trigger_kind, instance_id, progress) VALUES ($1, $2, $3, 0) RETURNING id", conn);
        insert.Parameters.Add(new() { Value = job });
        insert.Parameters.Add(new() { Value = trigger });
        insert.Parameters.Add(new() { Value = instance });
        return (long)(await insert.ExecuteScalarAsync(ct))!;
    }

    public async Task ReportAsync(long runId, double progress, string? message, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand(
            "UPDATE job_runs SET progress = $2, progress_message = coalesce($3, progress_message) WHERE id = $1 AND outcome = 'running'");
        cmd.Parameters.Add(new() { Value = runId });
        cmd.Parameters.Add(new() { Value = progress });
        cmd.Parameters.Add(new() { Value = (object?)message ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<JobRun> FinishAsync(long runId, string outcome, JobOutcome? result, string? error, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"""
            UPDATE job_runs SET finished_at = clock_timestamp(), outcome = $2, rows_touched = $3, files_touched = $4,
                summary = $5, error = $6, progress = CASE WHEN $2 = 'succeeded' THEN 1 ELSE progress END
            WHERE id = $1
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(new() { Value = runId });
        cmd.Parameters.Add(new() { Value = outcome });
        cmd.Parameters.Add(new() { Value = result?.RowsTouched ?? 0 });
        cmd.Parameters.Add(new() { Value = result?.FilesTouched ?? 0 });
        cmd.Parameters.Add(new() { Value = (object?)result?.Summary ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        return (await ReadAsync(cmd, ct)).Single();
    }

    /// <summary>A run that did not start because another run of the job holds its lock.</summary>
    public async Task<JobRun> RecordSkippedAsync(string job, string trigger, string instance, string reason, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"""
            INSERT INTO job_runs (job_name, trigger_kind, instance_id, finished_at, outcome, summary)
            VALUES ($1, $2, $3, clock_timestamp(), 'skipped', $4)
            RETURNING {Columns}
            """);
        cmd.Parameters.Add(new() { Value = job });
        cmd.Parameters.Add(new() { Value = trigger });
        cmd.Parameters.Add(new() { Value = instance });
        cmd.Parameters.Add(new() { Value = reason });
        return (await ReadAsync(cmd, ct)).Single();
    }

    /// <summary>The newest <paramref name="perJob"/> runs of each job, newest first.</summary>
    public async Task<Dictionary<string, List<JobRun>>> LastRunsAsync(IReadOnlyCollection<string> jobs, int perJob, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand($"""
            SELECT r.* FROM unnest($1::text[]) AS j(name)
            CROSS JOIN LATERAL (SELECT {Columns} FROM job_runs WHERE job_name = j.name ORDER BY id DESC LIMIT $2) r
            """);
        cmd.Parameters.Add(new() { Value = jobs.ToArray() });
        cmd.Parameters.Add(new() { Value = perJob });
        var runs = jobs.ToDictionary(j => j, _ => new List<JobRun>(), StringComparer.Ordinal);
        foreach (var run in await ReadAsync(cmd, ct)) runs[run.Job].Add(run);
        foreach (var list in runs.Values) list.Sort((a, b) => b.Id.CompareTo(a.Id));
        return runs;
    }

    public async Task PruneAsync(string job, int keep, CancellationToken ct)
    {
        await using var cmd = dataSource.CreateCommand("""
            DELETE FROM job_runs WHERE job_name = $1 AND id < (
                SELECT min(id) FROM (SELECT id FROM job_runs WHERE job_name = $1 ORDER BY id DESC LIMIT $2) newest)
            """);
        cmd.Parameters.Add(new() { Value = job });
        cmd.Parameters.Add(new() { Value = Math.Max(1, keep) });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static async Task<List<JobRun>> ReadAsync(NpgsqlCommand cmd, CancellationToken ct)
    {
        var runs = new List<JobRun>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct))
        {
            static DateTime Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc);
            runs.Add(new JobRun(
                r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetString(3), Utc(r.GetDateTime(4)),
                r.IsDBNull(5) ? null : Utc(r.GetDateTime(5)), r.GetString(6), r.IsDBNull(7) ? null : r.GetDouble(7),
                r.IsDBNull(8) ? null : r.GetString(8), r.GetInt64(9), r.GetInt64(10), r.IsDBNull(11) ? null : r.GetString(11),
                r.IsDBNull(12) ? null : r.GetString(12), Math.Round(Convert.ToDouble(r.GetValue(13), System.Globalization.CultureInfo.InvariantCulture), 1)));
        }

        return runs;
    }
}
