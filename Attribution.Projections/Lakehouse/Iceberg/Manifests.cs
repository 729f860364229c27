using System.Collections;
using System.Globalization;
using System.Text.Json.Nodes;
using Attribution.Projections.Lakehouse.Avro;
using Avro;
using Avro.Generic;
using AvroSchema = Avro.Schema;

namespace Attribution.Projections.Lakehouse.Iceberg;

public enum EntryStatus
{
    Existing = 0,
    Added = 1,
    Deleted = 2,
}

/// <summary>One Parquet data file as a manifest records it. Metric maps are keyed by Iceberg field id.</summary>
internal sealed record DataFile(
    string Path,
    PartitionKey Partition,
    long RecordCount,
    long FileSizeBytes,
    IReadOnlyDictionary<int, long> ColumnSizes,
    IReadOnlyDictionary<int, long> ValueCounts,
    IReadOnlyDictionary<int, long> NullValueCounts,
    IReadOnlyDictionary<int, long> NanValueCounts,
    IReadOnlyDictionary<int, byte[]> LowerBounds,
    IReadOnlyDictionary<int, byte[]> UpperBounds,
    IReadOnlyList<long> SplitOffsets);

/// <summary>A manifest entry; null snapshot and sequence numbers are inherited from the manifest list on read.</summary>
internal sealed record ManifestEntry(EntryStatus Status, long? SnapshotId, long? SequenceNumber, long? FileSequenceNumber, DataFile File);

internal sealed record FieldSummary(bool ContainsNull, bool? ContainsNan, byte[]? LowerBound, byte[]? UpperBound);

/// <summary>A <c>manifest_file</c> record of a manifest list.</summary>
internal sealed record ManifestFile(
    string Path,
    long Length,
    int SpecId,
    long SequenceNumber,
    long MinSequenceNumber,
    long AddedSnapshotId,
    int AddedFilesCount,
    int ExistingFilesCount,
    int DeletedFilesCount,
    long AddedRowsCount,
    long ExistingRowsCount,
    long DeletedRowsCount,
    IReadOnlyList<FieldSummary> Partitions);

/// <summary>
/// Iceberg v2 manifests and manifest lists as Avro files, with the spec's field names and ids (manifest_entry with
/// data_file ids 100-143, manifest_file ids 500-519) and int-keyed maps as arrays of key/value records.
/// </summary>
internal static class Manifests
{
    public static JsonObject EntrySchema(BoundPartitionSpec spec)
    {
        var partitionFields = new JsonArray();
        foreach (var f in spec.Fields)
            partitionFields.Add(Optional(f.Name, AvroType(f.ResultType), f.FieldId));

        var dataFile = new JsonObject
        {
            ["type"] = "record",
            ["name"] = "r2",
            ["fields"] = new JsonArray
            {
                Field("content", "int", 134),
                Field("file_path", "string", 100),
                Field("file_format", "string", 101),
                Field("partition", new JsonObject { ["type"] = "record", ["name"] = "r102", ["fields"] = partitionFields }, 102),
                Field("record_count", "long", 103),
                Field("file_size_in_bytes", "long", 104),
                Optional("column_sizes", IntMap(117, 118, "long"), 108),
                Optional("value_counts", IntMap(119, 120, "long"), 109),
                Optional("null_value_counts", IntMap(121, 122, "long"), 110),
                Optional("nan_value_counts", IntMap(138, 139, "long"), 137),
                Optional("lower_bounds", IntMap(126, 127, "bytes"), 125),
                Optional("upper_bounds", IntMap(129, 130, "bytes"), 128),
                Optional("key_metadata", "bytes", 131),
                Optional("split_offsets", new JsonObject { ["type"] = "array", ["items"] = "long", ["element-id"] = 133 }, 132),
                Optional("equality_ids", new JsonObject { ["type"] = "array", ["items"] = "int", ["element-id"] = 136 }, 135),
                Optional("sort_order_id", "int", 140),
                Optional("referenced_data_file", "string", 143),
            },
        };
        return new JsonObject
        {
            ["type"] = "record",
            ["name"] = "manifest_entry",
            ["fields"] = new JsonArray
            {
                Field("status", "int", 0),
                Optional("snapshot_id", "long", 1),
                Optional("sequence_number", "long", 3),
                Optional("file_sequence_number", "long", 4),
                Field("data_file", dataFile, 2),
            },
        };
    }

    public static JsonObject ListSchema() => new()
    {
        ["type"] = "record",
        ["name"] = "manifest_file",
        ["fields"] = new JsonArray
        {
            Field("manifest_path", "string", 500),
            Field("manifest_length", "long", 501),
            Field("partition_spec_id", "int", 502),
            Field("content", "int", 517),
            Field("sequence_number", "long", 515),
            Field("min_sequence_number", "long", 516),
            Field("added_snapshot_id", "long", 503),
            Field("added_files_count", "int", 504),
            Field("existing_files_count", "int", 505),
            Field("deleted_files_count", "int", 506),
            Field("added_rows_count", "long", 512),
            Field("existing_rows_count", "long", 513),
            Field("deleted_rows_count", "long", 514),
            Optional("partitions", new JsonObject
            {
                ["type"] = "array",
                ["items"] = new JsonObject
                {
                    ["type"] = "record",
                    ["name"] = "r508",
                    ["fields"] = new JsonArray
                    {
                        Field("contains_null", "boolean", 509),
                        Optional("contains_nan", "boolean", 518),
                        Optional("lower_bound", "bytes", 510),
                        Optional("upper_bound", "bytes", 511),
                    },
                },
                ["element-id"] = 508,
            }, 507),
            Optional("key_metadata", "bytes", 519),
        },
    };

    private static JsonObject Field(string name, JsonNode type, int id) => new() { ["name"] = name, ["type"] = type, ["field-id"] = id };

    private static JsonObject Optional(string name, JsonNode type, int id) =>
        new() { ["name"] = name, ["type"] = new JsonArray("null", type), ["default"] = null, ["field-id"] = id };

    private static JsonObject IntMap(int keyId, int valueId, string valueType) => new()
    {
        ["type"] = "array",
        ["logicalType"] = "map",
        ["items"] = new JsonObject
        {
            ["type"] = "record",
            ["name"] = string.Create(CultureInfo.InvariantCulture, $"k{keyId}_v{valueId}"),
            ["fields"] = new JsonArray { Field("key", "int", keyId), Field("value", valueType, valueId) },
        },
    };

    private static JsonNode AvroType(ColumnType type) => type switch
    {
        ColumnType.Boolean => "boolean",
        ColumnType.Int => "int",
        ColumnType.Long => "long",
        ColumnType.Double => "double",
        ColumnType.String => "string",
        ColumnType.TimestampTz => new JsonObject { ["type"] = "long", ["logicalType"] = "timestamp-micros", ["adjust-to-utc"] = true },
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>Writes a data manifest and returns its manifest-list record (length and counts from what was written).</summary>
    public static ManifestFile WriteManifest(
        string localPath,
        string location,
        IReadOnlyList<ManifestEntry> entries,
        TableSchema schema,
        BoundPartitionSpec spec,
        long snapshotId,
        long sequenceNumber,
        AvroCodec codec)
    {
        var metadata = new Dictionary<string, string>
        {
            ["schema"] = TableMetadata.SchemaJson(schema),
            ["schema-id"] = schema.SchemaId.ToString(CultureInfo.InvariantCulture),
            ["partition-spec"] = TableMetadata.PartitionFieldsJson(spec),
            ["partition-spec-id"] = spec.SpecId.ToString(CultureInfo.InvariantCulture),
            ["format-version"] = "2",
            ["content"] = "data",
        };
        WriteContainer(localPath, EntrySchema(spec), entries.Select(e => ToAvro(e, spec)), metadata, codec);

        var live = entries.Where(e => e.Status != EntryStatus.Deleted).ToList();
        return new ManifestFile(
            location,
            new FileInfo(localPath).Length,
            spec.SpecId,
            sequenceNumber,
            // ADDED entries inherit this commit's sequence number; others carry theirs explicitly.
            live.Count == 0 ? sequenceNumber : live.Min(e => e.SequenceNumber ?? sequenceNumber),
            snapshotId,
            entries.Count(e => e.Status == EntryStatus.Added),
            entries.Count(e => e.Status == EntryStatus.Existing),
            entries.Count(e => e.Status == EntryStatus.Deleted),
            entries.Where(e => e.Status == EntryStatus.Added).Sum(e => e.File.RecordCount),
            entries.Where(e => e.Status == EntryStatus.Existing).Sum(e => e.File.RecordCount),
            entries.Where(e => e.Status == EntryStatus.Deleted).Sum(e => e.File.RecordCount),
            Summaries(entries, spec));
    }

    /// <summary>Per partition field: nulls seen and the lower/upper partition values over all entries.</summary>
    private static List<FieldSummary> Summaries(IReadOnlyList<ManifestEntry> entries, BoundPartitionSpec spec)
    {
        var result = new List<FieldSummary>(spec.Fields.Count);
        for (var i = 0; i < spec.Fields.Count; i++)
        {
            var type = spec.Fields[i].ResultType;
            var values = entries.Select(e => e.File.Partition.Values[i]).ToList();
            var present = values.Where(v => v is not null).Cast<object>().ToList();
            object? lower = null, upper = null;
            foreach (var v in present)
            {
                if (lower is null || ColumnValues.Compare(type, v, lower) < 0) lower = v;
                if (upper is null || ColumnValues.Compare(type, v, upper) > 0) upper = v;
            }
            result.Add(new FieldSummary(
                values.Any(v => v is null),
                type == ColumnType.Double ? present.Any(v => double.IsNaN((double)v)) : null,
                lower is null ? null : ColumnValues.IcebergBinary(type, lower),
                upper is null ? null : ColumnValues.IcebergBinary(type, upper)));
        }
        return result;
    }

    private static Dictionary<string, object?> ToAvro(ManifestEntry e, BoundPartitionSpec spec)
    {
        var f = e.File;
        var partition = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < spec.Fields.Count; i++) partition[spec.Fields[i].Name] = f.Partition.Values[i];
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["status"] = (int)e.Status,
            ["snapshot_id"] = e.SnapshotId,
            ["sequence_number"] = e.SequenceNumber,
            ["file_sequence_number"] = e.FileSequenceNumber,
            ["data_file"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["content"] = 0,
                ["file_path"] = f.Path,
                ["file_format"] = "PARQUET",
                ["partition"] = partition,
                ["record_count"] = f.RecordCount,
                ["file_size_in_bytes"] = f.FileSizeBytes,
                ["column_sizes"] = MapToAvro(f.ColumnSizes),
                ["value_counts"] = MapToAvro(f.ValueCounts),
                ["null_value_counts"] = MapToAvro(f.NullValueCounts),
                ["nan_value_counts"] = MapToAvro(f.NanValueCounts),
                ["lower_bounds"] = MapToAvro(f.LowerBounds),
                ["upper_bounds"] = MapToAvro(f.UpperBounds),
                ["split_offsets"] = f.SplitOffsets.Cast<object?>().ToList(),
                ["sort_order_id"] = 0,
            },
        };
    }

    private static List<object?> MapToAvro<T>(IReadOnlyDictionary<int, T> map) =>
        map.OrderBy(kv => kv.Key)
           .Select(kv => (object?)new Dictionary<string, object?>(StringComparer.Ordinal) { ["key"] = kv.Key, ["value"] = kv.Value })
           .ToList();

    public static List<ManifestEntry> ReadManifest(string localPath, BoundPartitionSpec spec)
    {
        return ReadContainer(localPath).Select(r => FromAvro(r, spec)).ToList();
    }

    private static ManifestEntry FromAvro(Dictionary<string, object?> r, BoundPartitionSpec spec)
    {
        var f = (Dictionary<string, object?>)r["data_file"]!;
        if ((int)f["content"]! != 0) throw new NotSupportedException("Delete files are not supported by this writer.");
        var partitionRecord = (Dictionary<string, object?>)f["partition"]!;
        var partition = new PartitionKey(spec.Fields.Select(pf => partitionRecord[pf.Name]).ToArray());
        return new ManifestEntry(
            (EntryStatus)(int)r["status"]!,
            (long?)r["snapshot_id"],
            (long?)r["sequence_number"],
            (long?)r["file_sequence_number"],
            new DataFile(
                (string)f["file_path"]!,
                partition,
                (long)f["record_count"]!,
                (long)f["file_size_in_bytes"]!,
                MapFromAvro<long>(f["column_sizes"]),
                MapFromAvro<long>(f["value_counts"]),
                MapFromAvro<long>(f["null_value_counts"]),
                MapFromAvro<long>(f["nan_value_counts"]),
                MapFromAvro<byte[]>(f["lower_bounds"]),
                MapFromAvro<byte[]>(f["upper_bounds"]),
                (f["split_offsets"] as List<object?>)?.Select(o => (long)o!).ToList() ?? []));
    }

    private static Dictionary<int, T> MapFromAvro<T>(object? value) =>
        (value as List<object?> ?? []).Cast<Dictionary<string, object?>>().ToDictionary(kv => (int)kv["key"]!, kv => (T)kv["value"]!);

    public static long WriteList(string localPath, IReadOnlyList<ManifestFile> manifests, long snapshotId, long? parentId, long sequenceNumber, AvroCodec codec)
    {
        var metadata = new Dictionary<string, string>
        {
            ["snapshot-id"] = snapshotId.ToString(CultureInfo.InvariantCulture),
            ["parent-snapshot-id"] = parentId?.ToString(CultureInfo.InvariantCulture) ?? "null",
            ["sequence-number"] = sequenceNumber.ToString(CultureInfo.InvariantCulture),
            ["format-version"] = "2",
        };
        WriteContainer(localPath, ListSchema(), manifests.Select(ToAvro), metadata, codec);
        return new FileInfo(localPath).Length;
    }

    private static Dictionary<string, object?> ToAvro(ManifestFile m) => new(StringComparer.Ordinal)
    {
        ["manifest_path"] = m.Path,
        ["manifest_length"] = m.Length,
        ["partition_spec_id"] = m.SpecId,
        ["content"] = 0,
        ["sequence_number"] = m.SequenceNumber,
        ["min_sequence_number"] = m.MinSequenceNumber,
        ["added_snapshot_id"] = m.AddedSnapshotId,
        ["added_files_count"] = m.AddedFilesCount,
        ["existing_files_count"] = m.ExistingFilesCount,
        ["deleted_files_count"] = m.DeletedFilesCount,
        ["added_rows_count"] = m.AddedRowsCount,
        ["existing_rows_count"] = m.ExistingRowsCount,
        ["deleted_rows_count"] = m.DeletedRowsCount,
        ["partitions"] = m.Partitions.Select(p => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["contains_null"] = p.ContainsNull,
            ["contains_nan"] = p.ContainsNan,
            ["lower_bound"] = p.LowerBound,
            ["upper_bound"] = p.UpperBound,
        }).ToList(),
    };

    public static List<ManifestFile> ReadList(string localPath) =>
        ReadContainer(localPath).Select(r => new ManifestFile(
            (string)r["manifest_path"]!,
            (long)r["manifest_length"]!,
            (int)r["partition_spec_id"]!,
            (long)r["sequence_number"]!,
            (long)r["min_sequence_number"]!,
            (long)r["added_snapshot_id"]!,
            (int)r["added_files_count"]!,
            (int)r["existing_files_count"]!,
            (int)r["deleted_files_count"]!,
            (long)r["added_rows_count"]!,
            (long)r["existing_rows_count"]!,
            (long)r["deleted_rows_count"]!,
            (r["partitions"] as List<object?> ?? []).Cast<Dictionary<string, object?>>().Select(p => new FieldSummary(
                (bool)p["contains_null"]!, (bool?)p["contains_nan"], (byte[]?)p["lower_bound"], (byte[]?)p["upper_bound"])).ToList()))
        .ToList();

    /// <summary>
    /// The records are built as dictionaries (field name to value, lists for arrays, microseconds for timestamps) and
    /// turned into Apache.Avro's generic records along the schema; the header keeps the schema text as given.
    /// </summary>
    private static void WriteContainer(
        string localPath, JsonObject schemaJson, IEnumerable<Dictionary<string, object?>> records, IReadOnlyDictionary<string, string> metadata, AvroCodec codec)
    {
        var text = schemaJson.ToJsonString();
        var schema = (RecordSchema)AvroSchema.Parse(text);
        AvroFiles.Write(localPath, text, schema, records.Select(r => (GenericRecord)ToGeneric(schema, r)!), metadata, codec);
    }

    private static List<Dictionary<string, object?>> ReadContainer(string localPath) =>
        AvroFiles.Read(localPath).Records.Select(r => (Dictionary<string, object?>)FromGeneric(r)!).ToList();

    private static object? ToGeneric(AvroSchema schema, object? value)
    {
        switch (schema)
        {
            case UnionSchema union:
                // Iceberg's optional fields are ["null", T].
                return value is null ? null : ToGeneric(union.Schemas.First(s => s.Tag != AvroSchema.Type.Null), value);
            case RecordSchema record:
            {
                var values = (IReadOnlyDictionary<string, object?>)value!;
                var generic = new GenericRecord(record);
                foreach (var field in record.Fields) generic.Add(field.Name, ToGeneric(field.Schema, values.GetValueOrDefault(field.Name)));
                return generic;
            }
            case ArraySchema array:
                return ((IEnumerable)value!).Cast<object?>().Select(item => ToGeneric(array.ItemSchema, item)).ToArray();
            case LogicalSchema { LogicalTypeName: "timestamp-micros" }:
                return ColumnValues.FromMicros((long)value!).UtcDateTime;
            case PrimitiveSchema { Tag: AvroSchema.Type.Long }:
                return Convert.ToInt64(value, CultureInfo.InvariantCulture);
            default:
                return value;
        }
    }

    private static object? FromGeneric(object? value) => value switch
    {
        GenericRecord record => record.Schema.Fields.ToDictionary(f => f.Name, f => FromGeneric(record.GetValue(f.Pos)), StringComparer.Ordinal),
        object[] array => array.Select(FromGeneric).ToList(),
        DateTime time => ColumnValues.TimestampMicros(time),
        _ => value,
    };
}
