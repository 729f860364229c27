using System.Data;
using System.Text.RegularExpressions;
using Attribution.Domain.Users;
using Npgsql;

namespace Attribution.Projections.Users;

/// <summary>
/// A grouping the cube does not cover, read row by row and totalled in the service (<see cref="AudienceTally"/>, exact
/// reach): the audience facts for the clean hours of the range, Gold joined to dim_users for the rest. Issue 21's
/// bench: the cross-tab of three bands and interest over a day took 1.4 s as a PostgreSQL aggregate with sketches; the
/// same rows read narrow and totalled here took about a third of that.
/// </summary>
internal sealed partial class AudienceRows
{
    private readonly Dictionary<int, string> _values = [];
    private readonly Dictionary<string, int> _codes = new(StringComparer.Ordinal);
    private readonly Dictionary<int, int[]> _interestSets = [];
    private int _uncoded;
    private readonly IReadOnlyList<string> _groupBy;
    private readonly int _interestAt;
    private readonly AudienceTally _tally;

    private AudienceRows(IReadOnlyList<string> groupBy)
    {
        _groupBy = groupBy;
        _interestAt = groupBy.ToList().IndexOf("interest");
        _tally = new AudienceTally(groupBy.Count, _interestAt);
    }

    /// <summary>
    /// Reads the plan's facts on <paramref name="conn"/> and, when there are both, its live ranges beside them on a second
    /// connection that imports the transaction's snapshot (the same data, in parallel): the live edges' join to
    /// dim_users costs about as much PostgreSQL time as the facts, and the two cores can share it.
    /// </summary>
    public static async Task<List<AudienceRow>> QueryAsync(AudienceRowPlan plan, IReadOnlyList<string> groupBy, string? campaignId,
        NpgsqlDataSource dataSource, NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        var rows = new AudienceRows(groupBy);
        if (plan.Facts.Count == 0)
        {
            await rows.ReadLiveAsync(plan.Live, campaignId, conn, tx, ct);
            return rows.Answer();
        }

        await rows.ReadCodesAsync(conn, tx, ct);

        var live = plan.Live.Count == 0 ? null : ReadLiveBesideAsync(plan.Live, groupBy, campaignId, await ExportSnapshotAsync(conn, tx, ct), dataSource, ct);
        try
        {
            await rows.ReadAsync(rows.FactsCommand(plan.Facts, campaignId, conn, tx), fromFacts: true, ct);
        }
        finally
        {
            // Never left running when the facts failed; their error is the one reported, the edges' is observed.
            if (live is not null)
            {
                await Task.WhenAny(live);
                _ = live.Exception;
            }
        }

        if (live is not null)
        {
            var edges = await live;
            rows._tally.Add(edges._tally, code => rows.Code(edges._values[code]));
        }

        return rows.Answer();
    }

    private async Task ReadLiveAsync(IReadOnlyList<(DateTime From, DateTime To)> ranges, string? campaignId, NpgsqlConnection conn, NpgsqlTransaction tx,
        CancellationToken ct)
    {
        await AudienceRanges.JoinProfilesByIndexIfFewAsync(ranges, campaignId, conn, tx, ct);
        await ReadAsync(LiveCommand(ranges, campaignId, conn, tx), fromFacts: false, ct);
    }

    private static async Task<AudienceRows> ReadLiveBesideAsync(IReadOnlyList<(DateTime From, DateTime To)> ranges, IReadOnlyList<string> groupBy,
        string? campaignId, string snapshot, NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await Task.Yield(); // the facts start reading at once
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        // SET takes no parameters; the id is PostgreSQL's own, checked for its form.
        await using (var import = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot}'", conn, tx))
            await import.ExecuteNonQueryAsync(ct);
        // Gold's rows carry values, not codes: the edges code them as they meet them, recoded when added to the facts'.
        var edges = new AudienceRows(groupBy);
        await edges.ReadLiveAsync(ranges, campaignId, conn, tx, ct);
        return edges;
    }

    private static async Task<string> ExportSnapshotAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT pg_export_snapshot()", conn, tx);
        var id = (string)(await cmd.ExecuteScalarAsync(ct))!;
        return SnapshotId().IsMatch(id) ? id : throw new InvalidOperationException($"PostgreSQL exported a snapshot id of an unknown form: {id}");
    }

    [GeneratedRegex("^[0-9A-F]+(-[0-9A-F]+)+$")]
    private static partial Regex SnapshotId();

    /// <summary>The codes in this snapshot: a few hundred values and interest sets.</summary>
    private async Task ReadCodesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using (var cmd = new NpgsqlCommand("SELECT code, value FROM audience_codes", conn, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                _values[reader.GetInt32(0)] = reader.GetString(1);
                _codes[reader.GetString(1)] = reader.GetInt32(0);
            }
        }

        if (_interestAt < 0) return;
        await using (var cmd = new NpgsqlCommand("SELECT code, interests FROM audience_interest_sets", conn, tx))
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct)) _interestSets[reader.GetInt32(0)] = reader.GetFieldValue<string[]>(1).Select(Code).ToArray();
        }
    }

    /// <summary>A value's code; a value not coded in PostgreSQL (Gold's rows may hold values the facts have not met)
    /// gets a negative code of this reader's own.</summary>
    private int Code(string value)
    {
        if (_codes.TryGetValue(value, out var code)) return code;
        code = -1 - _uncoded++;
        _codes[value] = code;
        _values[code] = value;
        return code;
    }

    /// <summary>Columns 0-4: user hash, clicked, converted, cost and revenue in micro-units; then one per grouped
    /// dimension, in group_by's order (codes from the facts, values from Gold; interests as a set code or an array).</summary>
    private NpgsqlCommand FactsCommand(IReadOnlyList<(DateTime From, DateTime To)> ranges, string? campaignId, NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var groups = string.Concat(_groupBy.Select(d => d == "interest" ? ", interests" : $", {d}"));
        return RangeCommand($"""
            SELECT user_hash, is_clicked, is_converted, cost_micros, revenue_micros{groups}
            FROM audience_facts f
            """, ranges, campaignId, conn, tx);
    }

    private NpgsqlCommand LiveCommand(IReadOnlyList<(DateTime From, DateTime To)> ranges, string? campaignId, NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var groups = string.Concat(_groupBy.Select(d => d == "interest" ? $", {AudienceSql.Interests}" : $", {AudienceSql.Group[d]}"));
        return RangeCommand($"""
            SELECT {AudienceSql.UserHash("f.user_id")}, f.is_clicked, f.is_converted, {AudienceSql.Micros("f.cost")}, {AudienceSql.Micros("f.revenue")}{groups}
            FROM ad_performance_state f
            {AudienceSql.ProfileJoin}
            """, ranges, campaignId, conn, tx);
    }

    /// <summary>The ranges each as a pair of parameters, and the campaign's filter only when there is one (an
    /// "$n IS NULL OR" keeps the planner off the (campaign_id, impression_time) index).</summary>
    private static NpgsqlCommand RangeCommand(string select, IReadOnlyList<(DateTime From, DateTime To)> ranges, string? campaignId,
        NpgsqlConnection conn, NpgsqlTransaction tx)
    {
        var cmd = new NpgsqlCommand($"{select}\nWHERE ({AudienceRanges.Where(ranges, 1)}){(campaignId is null ? "" : $" AND f.campaign_id = ${1 + 2 * ranges.Count}")}", conn, tx);
        AudienceRanges.Add(cmd, ranges);
        if (campaignId is not null) cmd.Parameters.Add(new() { Value = campaignId });
        return cmd;
    }

    private async Task ReadAsync(NpgsqlCommand command, bool fromFacts, CancellationToken ct)
    {
        await using var cmd = command;
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var codes = new int[_groupBy.Count];
        while (await reader.ReadAsync(ct))
        {
            ReadOnlySpan<int> interests = default;
            for (var i = 0; i < codes.Length; i++)
            {
                if (i == _interestAt)
                {
                    interests = fromFacts ? _interestSets[reader.GetInt32(5 + i)] : reader.GetFieldValue<string[]>(5 + i).Select(Code).ToArray();
                }
                else
                {
                    codes[i] = fromFacts ? reader.GetInt32(5 + i) : Code(reader.GetString(5 + i));
                }
            }

            _tally.Add(codes, interests, reader.IsDBNull(0) ? null : reader.GetInt64(0), reader.GetBoolean(1), reader.GetBoolean(2),
                reader.GetInt64(3), reader.GetInt64(4));
        }
    }

    /// <summary>The groups with their values, ordered by them as the cube's answer is (ordinal).</summary>
    private List<AudienceRow> Answer() =>
        _tally.Groups()
            .Select(g => new AudienceRow(g.Codes.Select(c => _values[c]).ToList(), g.Totals.Impressions, g.Totals.UniqueReach, g.Totals.Clicks,
                g.Totals.Conversions, g.Totals.Cost, g.Totals.Revenue))
            .OrderBy(r => r.Keys, KeyOrder.Instance)
            .ToList();

    private sealed class KeyOrder : IComparer<IReadOnlyList<string>>
    {
        public static readonly KeyOrder Instance = new();

        public int Compare(IReadOnlyList<string>? x, IReadOnlyList<string>? y)
        {
            for (var i = 0; i < Math.Min(x!.Count, y!.Count); i++)
            {
                var c = string.CompareOrdinal(x[i], y[i]);
                if (c != 0) return c;
            }

            return x.Count.CompareTo(y.Count);
        }
    }
}
