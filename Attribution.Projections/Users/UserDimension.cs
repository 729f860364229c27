using System.Data.Common;
using Attribution.Domain.Dimensions;
using Attribution.Domain.Users;
using Attribution.Projections.Dimensions;
using Npgsql;
using NpgsqlTypes;
using UserDecision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Users.UserVersion, Attribution.Domain.Users.UserChange>;

namespace Attribution.Projections.Users;

/// <summary>What one batch of profiles did to dim_users, as one SCD2 merge.</summary>
/// <param name="Received">Profiles in the batch.</param>
/// <param name="Opened">Versions inserted (new users and changed profiles).</param>
/// <param name="Closed">Versions that stopped being current.</param>
/// <param name="Corrected">Current versions corrected in place (a profile at the very instant they start).</param>
/// <param name="Rejections">Profiles not applied, with the reason (a time before the current version's start).</param>
public sealed record UserMergeCounts(int Received, int Opened, int Closed, int Corrected, IReadOnlyList<string> Rejections);

/// <summary>dim_users, SCD type 2 by the shared rule (Attribution.Domain.Dimensions.Scd2): reads, one profile, a batch.</summary>
public sealed class UserDimension(NpgsqlDataSource dataSource)
{
    /// <summary>Every writer of dim_users takes this lock, so writes never interleave and merge markers commit in order.</summary>
    public const long WriteLock = 0x4174_7472_0011;

    private const string Columns = "user_key, user_id, age_band, gender, country, interests, segment, start_ts, end_ts, is_current";

    public async Task<UserVersion?> CurrentAsync(string userId, CancellationToken ct) =>
        (await ReadAsync("WHERE user_id = $1 AND is_current", [userId], ct)).SingleOrDefault();

    /// <summary>Every version of the user, oldest first.</summary>
    public Task<List<UserVersion>> HistoryAsync(string userId, CancellationToken ct) =>
        ReadAsync("WHERE user_id = $1 ORDER BY start_ts", [userId], ct);

    /// <summary>Applies one profile: opens, supersedes, corrects, or does nothing when it repeats the current one.</summary>
    public async Task<(UserDecision Decision, UserVersion? Current)> ChangeAsync(UserChange change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var current = (await ReadAsync(conn, tx, $"SELECT {Columns} FROM dim_users WHERE user_id = $1 AND is_current", [change.UserId], ct))
            .SingleOrDefault();
        var keys = await AllocateKeysAsync(conn, tx, 1, ct);
        var decision = Scd2.Decide(current, change, keys.Dequeue);
        IReadOnlyList<Scd2Write<UserVersion>> writes = decision switch
        {
            UserDecision.Created c => [new(Scd2WriteKind.Open, c.Version)],
            UserDecision.Superseded s => [new(Scd2WriteKind.Close, s.Closed), new(Scd2WriteKind.Open, s.Opened)],
            UserDecision.Corrected c => [new(Scd2WriteKind.Correct, c.After)],
            _ => [],
        };
        await WriteAsync(conn, tx, writes, new HashSet<(string, DateTimeOffset)> { (change.UserId, change.EffectiveAt) }, ct);
        await tx.CommitAsync(ct);
        return (decision, decision switch
        {
            UserDecision.Created c => c.Version,
            UserDecision.Superseded s => s.Opened,
            UserDecision.Corrected c => c.After,
            _ => current,
        });
    }

    /// <summary>Applies a batch of profiles as one SCD2 merge in one transaction (one Iceberg snapshot when exported).</summary>
    public async Task<UserMergeCounts> MergeAsync(IReadOnlyList<UserChange> changes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(changes);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var ids = changes.Select(c => c.UserId).Distinct(StringComparer.Ordinal).ToArray();
        var current = await ReadAsync(conn, tx, $"SELECT {Columns} FROM dim_users WHERE is_current AND user_id = ANY($1)", [ids], ct);
        var keys = await AllocateKeysAsync(conn, tx, changes.Count, ct);
        var result = Scd2.Merge(current, changes, keys.Dequeue);
        await WriteAsync(conn, tx, result.Writes, changes.Select(c => (c.UserId, c.EffectiveAt)).ToHashSet(), ct);
        await tx.CommitAsync(ct);
        return new UserMergeCounts(changes.Count,
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Open),
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Close) + result.Writes.Count(w => w.Kind == Scd2WriteKind.Open && !w.Row.IsCurrent),
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Correct),
            result.Rejections.Select(r => $"{r.Change.UserId} at {r.Change.EffectiveAt:O} (line {r.Change.Sequence}): {r.Reason}").ToList());
    }

    private static Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct) =>
        DimensionWrites.LockAsync(conn, tx, WriteLock, ct);

    private static Task<Queue<long>> AllocateKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, int count, CancellationToken ct) =>
        DimensionWrites.AllocateKeysAsync(conn, tx, "dim_users_key_seq", count, ct);

    /// <summary>Closes and corrections first, then opens, all stamped with this merge's marker and the instant from which
    /// each write can change an impression's audience group (the audience cube's refresh reads it).</summary>
    private static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<Scd2Write<UserVersion>> writes,
        IReadOnlySet<(string UserId, DateTimeOffset At)> changeInstants, CancellationToken ct)
    {
        if (writes.Count == 0) return;
        var merge = await DimensionMerge.NextAsync(conn, tx, ct);
        var updates = writes.Where(w => w.Kind != Scd2WriteKind.Open).Select(w => (w.Row, Audience.RegroupsFrom(w, changeInstants))).ToList();
        var opens = writes.Where(w => w.Kind == Scd2WriteKind.Open).Select(w => (w.Row, Audience.RegroupsFrom(w, changeInstants))).ToList();
        if (updates.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                UPDATE dim_users d SET age_band = u.age_band, gender = u.gender, country = u.country,
                       interests = string_to_array(u.interests, ','), segment = u.segment, start_ts = u.start_ts,
                       end_ts = u.end_ts, is_current = u.is_current, merge_seq = $11, regroups_from = u.regroups_from
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[], $9::timestamptz[], $10::boolean[], $12::timestamptz[])
                     AS u(user_key, user_id, age_band, gender, country, interests, segment, start_ts, end_ts, is_current, regroups_from)
                WHERE d.user_key = u.user_key AND d.user_id = u.user_id
                """, conn, tx);
            Bind(update, updates, merge);
            var n = await update.ExecuteNonQueryAsync(ct);
            if (n != updates.Count) throw new InvalidOperationException($"dim_users changed under the SCD2 write: {n} of {updates.Count} rows updated");
        }

        if (opens.Count > 0)
        {
            await using var insert = new NpgsqlCommand($"""
                INSERT INTO dim_users ({Columns}, merge_seq, regroups_from)
                SELECT user_key, user_id, age_band, gender, country, string_to_array(interests, ','), segment, start_ts, end_ts, is_current, $11, regroups_from
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                            $8::timestamptz[], $9::timestamptz[], $10::boolean[], $12::timestamptz[])
                     AS u(user_key, user_id, age_band, gender, country, interests, segment, start_ts, end_ts, is_current, regroups_from)
                """, conn, tx);
            Bind(insert, opens, merge);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    // Interests travel as one comma-joined text per row (unnest flattens arrays of arrays); labels hold no comma.
    private static void Bind(NpgsqlCommand cmd, List<(UserVersion Row, DateTimeOffset RegroupsFrom)> writes, long merge)
    {
        var rows = writes.Select(w => w.Row).ToList();
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.UserKey).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.UserId).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Profile.AgeBand).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Profile.Gender).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Profile.Country).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = rows.Select(r => string.Join(',', r.Profile.Interests)).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Profile.Segment).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.StartTs).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.EndTs).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.IsCurrent).ToArray() });
        cmd.Parameters.Add(new() { Value = merge });
        cmd.Parameters.Add(new() { Value = writes.Select(w => w.RegroupsFrom).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
    }

    private async Task<List<UserVersion>> ReadAsync(string where, object[] args, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, $"SELECT {Columns} FROM dim_users {where}", args, ct);
    }

    private static Task<List<UserVersion>> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, object[] args, CancellationToken ct) =>
        DimensionReads.RowsAsync(conn, tx, sql, args, Read, ct);

    private static UserVersion Read(DbDataReader r)
    {
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        if (!UserProfile.TryCreate(Text(2), Text(3), Text(4), r.GetFieldValue<string[]>(5), Text(6), out var profile, out var error))
            throw new InvalidDataException($"dim_users row {r.GetInt64(0)} holds a profile that does not parse: {error}");
        return new UserVersion(r.GetInt64(0), r.GetString(1), profile, r.GetFieldValue<DateTimeOffset>(7), r.GetFieldValue<DateTimeOffset>(8), r.GetBoolean(9));
    }
}
