using Npgsql;

namespace Attribution.Projections.Dimensions;

/// <summary>
/// The merge marker of the dimension tables (Campaigns/CampaignMergeSeq.sql): one value per SCD2 write transaction,
/// stamped on every row it writes, so the lakehouse export can make each merge one Iceberg snapshot.
/// </summary>
internal static class DimensionMerge
{
    /// <summary>The next merge's marker; call under the dimension's write lock, so markers commit in order.</summary>
    public static async Task<long> NextAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT nextval('dims_merge_seq')", conn, tx);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    /// <summary>The last marker handed out (0 before the first): no export can have gone past it.</summary>
    public const string SequenceSql = "SELECT coalesce(pg_sequence_last_value('dims_merge_seq'::regclass), 0)";
}
