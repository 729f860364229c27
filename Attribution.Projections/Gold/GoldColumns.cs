using System.Data.Common;
using Attribution.Domain.Attribution;
using Attribution.Projections.Schema;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Gold;

/// <summary>One column of Gold as the writers and readers see it: how a row's value is copied, bound as an array, and
/// read back. Typed delegates, not object values: the pipeline copies every column of every new impression, and a
/// boxed value per column was garbage the consumer paid for in collections.</summary>
public sealed class GoldColumn
{
    private GoldColumn(string name, string arrayType, Action<NpgsqlBinaryImporter, GoldRow> copy, Action<NpgsqlCommand, IReadOnlyList<GoldRow>> bind)
    {
        Name = name;
        ArrayType = arrayType;
        Copy = copy;
        Bind = bind;
    }

    public string Name { get; }

    /// <summary>The SQL array type an unnest of the bound parameter casts to.</summary>
    public string ArrayType { get; }

    public Action<NpgsqlBinaryImporter, GoldRow> Copy { get; }

    public Action<NpgsqlCommand, IReadOnlyList<GoldRow>> Bind { get; }

    public static GoldColumn Text(string name, Func<GoldRow, string?> pick) =>
        new(name, "text[]", (importer, row) => importer.WriteText(pick(row)), Array(pick, NpgsqlDbType.Text));

    public static GoldColumn Value<T>(string name, string sqlType, NpgsqlDbType type, Func<GoldRow, T> pick) where T : struct =>
        new(name, sqlType + "[]", (importer, row) => importer.Write(pick(row), type), Array(pick, type));

    public static GoldColumn Nullable<T>(string name, string sqlType, NpgsqlDbType type, Func<GoldRow, T?> pick) where T : struct =>
        new(name, sqlType + "[]", (importer, row) => importer.WriteNullable(pick(row), type), Array(pick, type));

    // The array's element type is named: an array of nullable values says nothing about its kind when it starts with null.
    private static Action<NpgsqlCommand, IReadOnlyList<GoldRow>> Array<T>(Func<GoldRow, T> pick, NpgsqlDbType type) =>
        (cmd, rows) => cmd.Parameters.Add(new NpgsqlParameter { Value = rows.Select(pick).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | type });
}

/// <summary>Gold's columns in one place (the table itself is Gold.sql): the COPY, the upsert, the update and the reads
/// all take their column lists and their order from here.</summary>
public static class GoldColumns
{
    /// <summary>Every column the projection writes, in table order; last_updated_ts and change_seq are stamped by
    /// PostgreSQL (defaults on COPY, now() and the sequence on upsert and update).</summary>
    public static IReadOnlyList<GoldColumn> Written { get; } =
    [
        GoldColumn.Text("impression_id", r => r.State.ImpressionId),
        GoldColumn.Text("campaign_id", r => r.State.CampaignId),
        GoldColumn.Text("creative_id", r => r.State.CreativeId),
        GoldColumn.Text("user_id", r => r.State.UserId),
        GoldColumn.Text("geo_country", r => r.State.GeoCountry),
        GoldColumn.Text("platform", r => r.State.Platform),
        GoldColumn.Value("is_clicked", "boolean", NpgsqlDbType.Boolean, r => r.State.IsClicked),
        GoldColumn.Value("is_converted", "boolean", NpgsqlDbType.Boolean, r => r.State.IsConverted),
        GoldColumn.Nullable("impression_time", "timestamptz", NpgsqlDbType.TimestampTz, r => r.State.ImpressionTime),
        GoldColumn.Nullable("click_time", "timestamptz", NpgsqlDbType.TimestampTz, r => r.State.ClickTime),
        GoldColumn.Nullable("conversion_time", "timestamptz", NpgsqlDbType.TimestampTz, r => r.State.ConversionTime),
        GoldColumn.Value("cost", "numeric", NpgsqlDbType.Numeric, r => r.State.Cost),
        GoldColumn.Value("revenue", "numeric", NpgsqlDbType.Numeric, r => r.State.Revenue),
        GoldColumn.Value("eligible", "boolean", NpgsqlDbType.Boolean, r => r.State.Eligible),
        GoldColumn.Value("is_late", "boolean", NpgsqlDbType.Boolean, r => r.State.IsLate),
        GoldColumn.Value("late_by_ms", "bigint", NpgsqlDbType.Bigint, r => r.State.LateByMs),
        GoldColumn.Value("revenue_out_of_window", "numeric", NpgsqlDbType.Numeric, r => r.State.RevenueOutOfWindow),
        GoldColumn.Value("stream_version", "integer", NpgsqlDbType.Integer, r => r.StreamVersion),
        GoldColumn.Value("click_count", "integer", NpgsqlDbType.Integer, r => r.State.ClickCount),
        GoldColumn.Value("invalid_click_count", "integer", NpgsqlDbType.Integer, r => r.State.InvalidClickCount),
        GoldColumn.Value("fraud_suspected", "boolean", NpgsqlDbType.Boolean, r => r.State.FraudSuspected),
        GoldColumn.Text("fraud_reasons", r => r.State.FraudReasons),
    ];

    /// <summary>The written columns by name, in order.</summary>
    public static string Names { get; } = string.Join(", ", Written.Select(c => c.Name));

    /// <summary>What the reads select: the written columns and the time of the last write.</summary>
    public static string Selected { get; } = Names + ", last_updated_ts";

    /// <summary>The bound arrays ($1, $2, … in <see cref="Written"/>'s order) as rows.</summary>
    public static string Unnest { get; } = "unnest(" + string.Join(", ", Written.Select((c, i) => $"${i + 1}::{c.ArrayType}")) + ")";

    /// <summary>"column = source.column" for every written column but the key.</summary>
    public static string AssignFrom(string source) =>
        string.Join(", ", Written.Skip(1).Select(c => $"{c.Name} = {source}.{c.Name}"));

    public static void Bind(NpgsqlCommand cmd, IReadOnlyList<GoldRow> rows)
    {
        foreach (var c in Written) c.Bind(cmd, rows);
    }

    public static void Copy(NpgsqlBinaryImporter importer, GoldRow row)
    {
        importer.StartRow();
        foreach (var c in Written) c.Copy(importer, row);
    }

    /// <summary>A row as <see cref="Selected"/> reads it.</summary>
    public static GoldRecord Read(DbDataReader r)
    {
        ArgumentNullException.ThrowIfNull(r);
        string? S(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        DateTime? T(int i) => r.IsDBNull(i) ? null : DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Utc);
        var state = new GoldState(r.GetString(0), S(1), S(2), S(3), S(4), S(5), r.GetBoolean(6), r.GetBoolean(7),
            T(8), T(9), T(10), r.GetDecimal(11), r.GetDecimal(12), r.GetBoolean(13), r.GetBoolean(14), r.GetInt64(15),
            r.GetDecimal(16))
        {
            ClickCount = r.GetInt32(18),
            InvalidClickCount = r.GetInt32(19),
            FraudSuspected = r.GetBoolean(20),
            FraudReasons = r.GetString(21),
        };
        return new GoldRecord(state, r.GetInt32(17), T(22)!.Value);
    }
}
