using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Attribution.Projections.Lakehouse.Iceberg;

internal sealed record SnapshotRecord(
    long SnapshotId,
    long? ParentSnapshotId,
    long SequenceNumber,
    long TimestampMs,
    string ManifestList,
    IReadOnlyDictionary<string, string> Summary,
    int SchemaId);

internal sealed record SnapshotLogEntry(long TimestampMs, long SnapshotId);

internal sealed record MetadataLogEntry(long TimestampMs, string MetadataFile);

/// <summary>
/// Iceberg v2 table metadata (the current schema and those it grew from, one partition spec, the unsorted order), written and read as the spec's
/// JSON. Every field a v2 reader requires is written, including <c>refs.main</c> equal to the current snapshot.
/// </summary>
internal sealed record TableMetadata(
    string TableUuid,
    string Location,
    long LastSequenceNumber,
    long LastUpdatedMs,
    TableSchema Schema,
    BoundPartitionSpec Spec,
    IReadOnlyDictionary<string, string> Properties,
    long? CurrentSnapshotId,
    IReadOnlyList<SnapshotRecord> Snapshots,
    IReadOnlyList<SnapshotLogEntry> SnapshotLog,
    IReadOnlyList<MetadataLogEntry> MetadataLog)
{
    /// <summary>The schemas before the current one (columns appended since): snapshots written under them name them.</summary>
    public IReadOnlyList<TableSchema> PastSchemas { get; init; } = [];

    /// <summary>The highest field id ever assigned: a new column takes a greater one, never a dropped column's.</summary>
    public int LastColumnId => PastSchemas.Select(s => s.LastColumnId).Append(Schema.LastColumnId).Max();

    public SnapshotRecord? CurrentSnapshot => CurrentSnapshotId is { } id ? Snapshots.First(s => s.SnapshotId == id) : null;

    public string ToJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format-version", 2);
            w.WriteString("table-uuid", TableUuid);
            w.WriteString("location", Location);
            w.WriteNumber("last-sequence-number", LastSequenceNumber);
            w.WriteNumber("last-updated-ms", LastUpdatedMs);
            w.WriteNumber("last-column-id", LastColumnId);
            w.WriteNumber("current-schema-id", Schema.SchemaId);
            w.WritePropertyName("schemas");
            w.WriteStartArray();
            foreach (var past in PastSchemas) WriteSchema(w, past);
            WriteSchema(w, Schema);
            w.WriteEndArray();
            w.WriteNumber("default-spec-id", Spec.SpecId);
            w.WritePropertyName("partition-specs");
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteNumber("spec-id", Spec.SpecId);
            w.WritePropertyName("fields");
            WritePartitionFields(w, Spec);
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteNumber("last-partition-id", Spec.LastFieldId);
            w.WriteNumber("default-sort-order-id", 0);
            w.WritePropertyName("sort-orders");
            w.WriteStartArray();
            w.WriteStartObject();
            w.WriteNumber("order-id", 0);
            w.WritePropertyName("fields");
            w.WriteStartArray();
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WritePropertyName("properties");
            w.WriteStartObject();
            foreach (var (k, v) in Properties) w.WriteString(k, v);
            w.WriteEndObject();
            // Java writes -1 for "no current snapshot" in v2 tables; readers treat it as null.
            w.WriteNumber("current-snapshot-id", CurrentSnapshotId ?? -1);
            w.WritePropertyName("refs");
            w.WriteStartObject();
            if (CurrentSnapshotId is { } current)
            {
                w.WritePropertyName("main");
                w.WriteStartObject();
                w.WriteNumber("snapshot-id", current);
                w.WriteString("type", "branch");
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WritePropertyName("snapshots");
            w.WriteStartArray();
            foreach (var s in Snapshots)
            {
                w.WriteStartObject();
                w.WriteNumber("sequence-number", s.SequenceNumber);
                w.WriteNumber("snapshot-id", s.SnapshotId);
                if (s.ParentSnapshotId is { } parent) w.WriteNumber("parent-snapshot-id", parent);
                w.WriteNumber("timestamp-ms", s.TimestampMs);
                w.WritePropertyName("summary");
                w.WriteStartObject();
                foreach (var (k, v) in s.Summary) w.WriteString(k, v);
                w.WriteEndObject();
                w.WriteString("manifest-list", s.ManifestList);
                w.WriteNumber("schema-id", s.SchemaId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("statistics");
            w.WriteStartArray();
            w.WriteEndArray();
            w.WritePropertyName("snapshot-log");
            w.WriteStartArray();
            foreach (var e in SnapshotLog)
            {
                w.WriteStartObject();
                w.WriteNumber("timestamp-ms", e.TimestampMs);
                w.WriteNumber("snapshot-id", e.SnapshotId);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WritePropertyName("metadata-log");
            w.WriteStartArray();
            foreach (var e in MetadataLog)
            {
                w.WriteStartObject();
                w.WriteNumber("timestamp-ms", e.TimestampMs);
                w.WriteString("metadata-file", e.MetadataFile);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    internal static void WriteSchema(Utf8JsonWriter w, TableSchema schema)
    {
        w.WriteStartObject();
        w.WriteString("type", "struct");
        w.WriteNumber("schema-id", schema.SchemaId);
        w.WritePropertyName("fields");
        w.WriteStartArray();
        foreach (var f in schema.Fields)
        {
            w.WriteStartObject();
            w.WriteNumber("id", f.Id);
            w.WriteString("name", f.Name);
            w.WriteBoolean("required", f.Required);
            w.WriteString("type", TypeName(f.Type));
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    internal static string SchemaJson(TableSchema schema) => ToJsonString(w => WriteSchema(w, schema));

    internal static string PartitionFieldsJson(BoundPartitionSpec spec) => ToJsonString(w => WritePartitionFields(w, spec));

    private static string ToJsonString(Action<Utf8JsonWriter> write)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms)) write(w);
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static void WritePartitionFields(Utf8JsonWriter w, BoundPartitionSpec spec)
    {
        w.WriteStartArray();
        foreach (var f in spec.Fields)
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("transform", f.Transform.Name);
            w.WriteNumber("source-id", f.SourceId);
            w.WriteNumber("field-id", f.FieldId);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    internal static string TypeName(ColumnType type) => type switch
    {
        ColumnType.Boolean => "boolean",
        ColumnType.Int => "int",
        ColumnType.Long => "long",
        ColumnType.Double => "double",
        ColumnType.String => "string",
        ColumnType.TimestampTz => "timestamptz",
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    private static ColumnType ParseType(string name) => name switch
    {
        "boolean" => ColumnType.Boolean,
        "int" => ColumnType.Int,
        "long" => ColumnType.Long,
        "double" => ColumnType.Double,
        "string" => ColumnType.String,
        "timestamptz" => ColumnType.TimestampTz,
        _ => throw new NotSupportedException($"Iceberg type '{name}' is not supported by this writer."),
    };

    public static TableMetadata Parse(string json)
    {
        var root = JsonNode.Parse(json)?.AsObject() ?? throw new InvalidDataException("Empty table metadata.");
        var version = root["format-version"]!.GetValue<int>();
        if (version != 2) throw new NotSupportedException($"Only format version 2 is supported, not {version}.");

        var schemaId = root["current-schema-id"]!.GetValue<int>();
        static TableSchema ParseSchema(JsonNode node) => new(
            node["fields"]!.AsArray().Select(f => new SchemaField(
                f!["id"]!.GetValue<int>(),
                f["name"]!.GetValue<string>(),
                ParseType(f["type"]!.GetValue<string>()),
                f["required"]!.GetValue<bool>())),
            node["schema-id"]!.GetValue<int>());
        var schemas = root["schemas"]!.AsArray().Select(s => ParseSchema(s!)).ToList();
        var schema = schemas.First(s => s.SchemaId == schemaId);

        var specId = root["default-spec-id"]!.GetValue<int>();
        var specNode = root["partition-specs"]!.AsArray().First(s => s!["spec-id"]!.GetValue<int>() == specId)!;
        var spec = new BoundPartitionSpec(specId, specNode["fields"]!.AsArray().Select(f =>
        {
            var sourceId = f!["source-id"]!.GetValue<int>();
            var sourceIndex = schema.IndexOfId(sourceId);
            return new BoundPartitionField(
                f["field-id"]!.GetValue<int>(),
                f["name"]!.GetValue<string>(),
                sourceId,
                sourceIndex,
                schema.Fields[sourceIndex].Type,
                Transform.Parse(f["transform"]!.GetValue<string>()));
        }).ToList());

        var current = root["current-snapshot-id"]?.GetValue<long>();
        if (current == -1) current = null;

        return new TableMetadata(
            root["table-uuid"]!.GetValue<string>(),
            root["location"]!.GetValue<string>(),
            root["last-sequence-number"]!.GetValue<long>(),
            root["last-updated-ms"]!.GetValue<long>(),
            schema,
            spec,
            (root["properties"]?.AsObject() ?? []).ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()),
            current,
            (root["snapshots"]?.AsArray() ?? []).Select(s => new SnapshotRecord(
                s!["snapshot-id"]!.GetValue<long>(),
                s["parent-snapshot-id"]?.GetValue<long>(),
                s["sequence-number"]!.GetValue<long>(),
                s["timestamp-ms"]!.GetValue<long>(),
                s["manifest-list"]!.GetValue<string>(),
                s["summary"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<string>()),
                s["schema-id"]?.GetValue<int>() ?? schemaId)).ToList(),
            (root["snapshot-log"]?.AsArray() ?? []).Select(e => new SnapshotLogEntry(
                e!["timestamp-ms"]!.GetValue<long>(), e["snapshot-id"]!.GetValue<long>())).ToList(),
            (root["metadata-log"]?.AsArray() ?? []).Select(e => new MetadataLogEntry(
                e!["timestamp-ms"]!.GetValue<long>(), e["metadata-file"]!.GetValue<string>())).ToList())
        {
            PastSchemas = [.. schemas.Where(s => s.SchemaId != schemaId)],
        };
    }

    internal static string Format(long v) => v.ToString(CultureInfo.InvariantCulture);
}
