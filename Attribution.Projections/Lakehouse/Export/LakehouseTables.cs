using Attribution.Projections.Lakehouse.Iceberg;

namespace Attribution.Projections.Lakehouse.Export;

/// <summary>One exported table: where it lives in the warehouse, its columns and its partitioning.</summary>
public sealed record LakehouseTableDefinition(string Namespace, string Table, TableSchema Schema, PartitionSpec Spec)
{
    /// <summary><c>namespace.table</c>, the name queries and the API use.</summary>
    public string QualifiedName => $"{Namespace}.{Table}";
}

/// <summary>The tables design 000 §3.2 and §3.3 name, in Iceberg terms. Field ids never change once written.</summary>
public static class LakehouseTables
{
    /// <summary>The time machine: every stored event, header columns plus the raw payload, partitioned by event hour.</summary>
    public static LakehouseTableDefinition Bronze { get; } = new("bronze", "ad_events",
        new TableSchema(
            new SchemaField(1, "event_id", ColumnType.String, Required: true),
            new SchemaField(2, "event_type", ColumnType.String, Required: true),
            new SchemaField(3, "event_time", ColumnType.TimestampTz, Required: true),
            new SchemaField(4, "impression_id", ColumnType.String, Required: true),
            new SchemaField(5, "campaign_id", ColumnType.String),
            new SchemaField(6, "creative_id", ColumnType.String),
            new SchemaField(7, "user_id", ColumnType.String),
            new SchemaField(8, "geo_country", ColumnType.String),
            new SchemaField(9, "platform", ColumnType.String),
            new SchemaField(10, "bid_price", ColumnType.Double),
            new SchemaField(11, "conversion_value", ColumnType.Double),
            new SchemaField(12, "conversion_type", ColumnType.String),
            new SchemaField(13, "click_id", ColumnType.String),
            new SchemaField(14, "ingest_time", ColumnType.TimestampTz, Required: true),
            new SchemaField(15, "kafka_partition", ColumnType.Int),
            new SchemaField(16, "kafka_offset", ColumnType.Long),
            new SchemaField(17, "seq", ColumnType.Long, Required: true),
            new SchemaField(18, "stream_version", ColumnType.Int, Required: true),
            new SchemaField(19, "raw_payload", ColumnType.String, Required: true),
            // Issue 22 (fraud rules): the client as /pixel and /click saw it; null for server-side events.
            new SchemaField(20, "ip_address", ColumnType.String),
            new SchemaField(21, "user_agent", ColumnType.String)),
        PartitionSpec.Of(PartitionFieldDefinition.Hour("event_time")));

    /// <summary>The 18 Gold columns of design 000 §3.2.2 and issue 22's fraud columns; money as double, as the design's schema says.</summary>
    public static LakehouseTableDefinition Gold { get; } = new("gold", "ad_performance_state",
        new TableSchema(
            new SchemaField(1, "impression_id", ColumnType.String, Required: true),
            new SchemaField(2, "campaign_id", ColumnType.String),
            new SchemaField(3, "creative_id", ColumnType.String),
            new SchemaField(4, "user_id", ColumnType.String),
            new SchemaField(5, "geo_country", ColumnType.String),
            new SchemaField(6, "platform", ColumnType.String),
            new SchemaField(7, "is_clicked", ColumnType.Boolean, Required: true),
            new SchemaField(8, "is_converted", ColumnType.Boolean, Required: true),
            new SchemaField(9, "impression_time", ColumnType.TimestampTz),
            new SchemaField(10, "click_time", ColumnType.TimestampTz),
            new SchemaField(11, "conversion_time", ColumnType.TimestampTz),
            new SchemaField(12, "cost", ColumnType.Double, Required: true),
            new SchemaField(13, "revenue", ColumnType.Double, Required: true),
            new SchemaField(14, "eligible", ColumnType.Boolean, Required: true),
            new SchemaField(15, "is_late", ColumnType.Boolean, Required: true),
            new SchemaField(16, "late_by_ms", ColumnType.Long, Required: true),
            new SchemaField(17, "revenue_out_of_window", ColumnType.Double, Required: true),
            new SchemaField(18, "last_updated_ts", ColumnType.TimestampTz, Required: true),
            // Issue 22 (fraud rules), appended as optional columns: files written before read them as nulls.
            new SchemaField(19, "click_count", ColumnType.Int),
            new SchemaField(20, "invalid_click_count", ColumnType.Int),
            new SchemaField(21, "fraud_suspected", ColumnType.Boolean),
            new SchemaField(22, "fraud_reasons", ColumnType.String)),
        PartitionSpec.Of(PartitionFieldDefinition.Bucket("impression_id", 16)));

    /// <summary>
    /// dim_campaigns, SCD type 2 (design 000 §3.4), every version: the point-in-time join is
    /// <c>f.campaign_id = d.campaign_id AND f.impression_time &gt;= d.start_ts AND f.impression_time &lt; d.end_ts</c>.
    /// Lists are comma-joined strings (sorted, distinct; their entries hold no comma) until the schema model has a
    /// list type. billing_model and cpc_rate (issue 22) came later: optional, so tables written before gain them as
    /// an added schema (their earlier rows read null).
    /// </summary>
    public static LakehouseTableDefinition DimCampaigns { get; } = new("dims", "dim_campaigns",
        new TableSchema(
            new SchemaField(1, "campaign_key", ColumnType.Long, Required: true),
            new SchemaField(2, "campaign_id", ColumnType.String, Required: true),
            new SchemaField(3, "name", ColumnType.String, Required: true),
            new SchemaField(4, "budget_amount", ColumnType.Double, Required: true),
            new SchemaField(5, "budget_type", ColumnType.String, Required: true),
            new SchemaField(6, "status", ColumnType.String, Required: true),
            new SchemaField(7, "start_ts", ColumnType.TimestampTz, Required: true),
            new SchemaField(8, "end_ts", ColumnType.TimestampTz, Required: true),
            new SchemaField(9, "is_current", ColumnType.Boolean, Required: true),
            new SchemaField(10, "landing_domains", ColumnType.String, Required: true),
            new SchemaField(11, "billing_model", ColumnType.String),
            new SchemaField(12, "cpc_rate", ColumnType.Double)),
        PartitionSpec.Unpartitioned);

    /// <summary>dim_users, SCD type 2 like dim_campaigns: demographics as bands (null where not known), every version.</summary>
    public static LakehouseTableDefinition DimUsers { get; } = new("dims", "dim_users",
        new TableSchema(
            new SchemaField(1, "user_key", ColumnType.Long, Required: true),
            new SchemaField(2, "user_id", ColumnType.String, Required: true),
            new SchemaField(3, "age_band", ColumnType.String),
            new SchemaField(4, "gender", ColumnType.String),
            new SchemaField(5, "country", ColumnType.String),
            new SchemaField(6, "interests", ColumnType.String, Required: true),
            new SchemaField(7, "segment", ColumnType.String),
            new SchemaField(8, "start_ts", ColumnType.TimestampTz, Required: true),
            new SchemaField(9, "end_ts", ColumnType.TimestampTz, Required: true),
            new SchemaField(10, "is_current", ColumnType.Boolean, Required: true)),
        PartitionSpec.Unpartitioned);

    /// <summary>The tables the export jobs write, in the order they run.</summary>
    public static IReadOnlyList<LakehouseTableDefinition> Exported { get; } = [Bronze, Gold, DimCampaigns, DimUsers];
}
