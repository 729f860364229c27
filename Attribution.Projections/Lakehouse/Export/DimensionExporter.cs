using Attribution.Projections.Campaigns;
using Attribution.Projections.Dimensions;
using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Projections.Observability;
using Attribution.Projections.Users;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>
/// An SCD2 dimension → <c>dims.*</c>: each merge (the rows stamped with one merge_seq) becomes one overwrite snapshot
/// by surrogate key, so the versions a merge closed are replaced and the ones it opened are added atomically, as the
/// design's Iceberg MERGE does (000 §3.4). All versions, current and closed, are in the table. A row touched again by
/// a later merge carries that merge's marker and goes out with it.
/// </summary>
public abstract class DimensionExporter(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics, IOptions<LakehouseOptions> options, ILogger logger)
    : TableExporter(dataSource, catalog, state, metrics, options, logger)
{
    protected override string MarkName => "merge-seq";

    protected override string SequenceSql => DimensionMerge.SequenceSql;

    protected override bool SnapshotPerMark => true;

    /// <summary>The dimension's rows of one merge: the merge_seq, then the table's columns in schema order, for the
    /// smallest merge_seq with <c>$1 &lt; merge_seq &lt;= $2</c> (the page limit, <c>$3</c>, does not apply).</summary>
    protected abstract string PageSql { get; }

    // A merge is never split: its closes and opens belong in one snapshot, however many rows it wrote.
    protected override Task ReadPageAsync(long after, long upTo, int limit, Action<long, object?[]> add, CancellationToken ct) =>
        ReadSqlPageAsync(PageSql, after, upTo, int.MaxValue, add, ct);

    protected override TableWrite BeginWrite(IcebergTable table) => table.BeginOverwrite(Definition.Schema.Fields[0].Name);
}

/// <summary>dim_campaigns → <c>dims.dim_campaigns</c>.</summary>
public sealed class CampaignDimensionExporter(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics, IOptions<LakehouseOptions> options,
    ILogger<CampaignDimensionExporter> logger)
    : DimensionExporter(dataSource, catalog, state, metrics, options, logger)
{
    public override LakehouseTableDefinition Definition => LakehouseTables.DimCampaigns;

    protected override string MaxMarkSql => "SELECT coalesce(max(merge_seq), 0) FROM dim_campaigns";

    protected override long BarrierLock => CampaignDimension.WriteLock;

    protected override string PageSql => """
        SELECT merge_seq, campaign_key, campaign_id, name, budget_amount, budget_type, status, start_ts, end_ts, is_current,
               array_to_string(landing_domains, ','), billing_model, cpc_rate
        FROM dim_campaigns
        WHERE merge_seq = (SELECT min(merge_seq) FROM dim_campaigns WHERE merge_seq > $1 AND merge_seq <= $2)
        ORDER BY campaign_key
        """;
}

/// <summary>dim_users → <c>dims.dim_users</c>.</summary>
public sealed class UserDimensionExporter(
    NpgsqlDataSource dataSource, LakehouseCatalog catalog, ExportStateStore state, JobMetrics metrics, IOptions<LakehouseOptions> options,
    ILogger<UserDimensionExporter> logger)
    : DimensionExporter(dataSource, catalog, state, metrics, options, logger)
{
    public override LakehouseTableDefinition Definition => LakehouseTables.DimUsers;

    protected override string MaxMarkSql => "SELECT coalesce(max(merge_seq), 0) FROM dim_users";

    protected override long BarrierLock => UserDimension.WriteLock;

    protected override string PageSql => """
        SELECT merge_seq, user_key, user_id, age_band, gender, country, array_to_string(interests, ','), segment,
               start_ts, end_ts, is_current
        FROM dim_users
        WHERE merge_seq = (SELECT min(merge_seq) FROM dim_users WHERE merge_seq > $1 AND merge_seq <= $2)
        ORDER BY user_key
        """;
}
