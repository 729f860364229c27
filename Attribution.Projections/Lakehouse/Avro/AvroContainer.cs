using System.Buffers;
using System.Collections;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace Attribution.Projections.Lakehouse.Avro;

public enum AvroCodec
{
    Null,
    /// <summary>Raw RFC 1951 deflate per block, as the Avro spec defines the "deflate" codec.</summary>
    Deflate,
}

/// <summary>A decoded container file: header metadata, the writer's schema and the records.</summary>
public sealed record AvroFile(IReadOnlyDictionary<string, string> Metadata, JsonNode Schema, IReadOnlyList<object?> Records);

/// <summary>
/// Avro object container files with a generic datum model driven by the JSON schema: records are
/// <c>IReadOnlyDictionary&lt;string, object?&gt;</c>, arrays <c>IEnumerable</c>, maps string-keyed dictionaries,
/// bytes and fixed <c>byte[]</c>, and unions pick their branch from the value. Enough for Iceberg manifests.
/// </summary>
public static class AvroContainer
{
    private static readonly byte[] Magic = [(byte)'O', (byte)'b', (byte)'j', 1];

    public static void Write(
        Stream output,
        JsonNode schema,
        IEnumerable<object?> records,
        IReadOnlyDictionary<string, string>? metadata = null,
        AvroCodec codec = AvroCodec.Deflate,
        int recordsPerBlock = 4096)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(records);
        var names = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var buffer = new ArrayBufferWriter<byte>(1 << 14);
        var w = new AvroWriter(buffer);
        var sync = RandomNumberGenerator.GetBytes(16);

        w.Fixed(Magic);
        var meta = new List<KeyValuePair<string, string>>
        {
            new("avro.schema", schema.ToJsonString()),
            new("avro.codec", codec == AvroCodec.Deflate ? "deflate" : "null"),
        };
        if (metadata is not null)
            meta.AddRange(metadata.Where(kv => !kv.Key.StartsWith("avro.", StringComparison.Ordinal)));
        w.Long(meta.Count);
        foreach (var (key, value) in meta)
        {
            w.String(key);
            w.Bytes(Encoding.UTF8.GetBytes(value));
        }
        w.Long(0);
        w.Fixed(sync);
        output.Write(buffer.WrittenSpan);

        var block = new ArrayBufferWriter<byte>(1 << 16);
        var bw = new AvroWriter(block);
        var count = 0;
        foreach (var record in records)
        {
            WriteDatum(bw, schema, record, names);
            if (++count == recordsPerBlock)
            {
                FlushBlock(output, block, count, codec, sync);
                count = 0;
            }
        }
        if (count > 0) FlushBlock(output, block, count, codec, sync);
        output.Flush();
    }

    private static void FlushBlock(Stream output, ArrayBufferWriter<byte> block, int count, AvroCodec codec, byte[] sync)
    {
        ReadOnlySpan<byte> payload = block.WrittenSpan;
        byte[]? compressed = null;
        if (codec == AvroCodec.Deflate)
        {
            using var ms = new MemoryStream();
            using (var deflate = new DeflateStream(ms, CompressionLevel.Optimal, leaveOpen: true))
                deflate.Write(payload);
            compressed = ms.ToArray();
            payload = compressed;
        }
        var header = new ArrayBufferWriter<byte>(24);
        var hw = new AvroWriter(header);
        hw.Long(count);
        hw.Long(payload.Length);
        output.Write(header.WrittenSpan);
        output.Write(payload);
        output.Write(sync);
        block.ResetWrittenCount();
    }

    public static AvroFile Read(string path) => Read(File.ReadAllBytes(path));

    public static AvroFile Read(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < 4 || !data.AsSpan(0, 4).SequenceEqual(Magic)) throw new InvalidDataException("Not an Avro container file.");
        var r = new AvroReader(data) { Position = 4 };
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var n = r.Long(); n != 0; n = r.Long())
        {
            if (n < 0)
            {
                n = -n;
                r.Long(); // block byte size
            }
            for (var i = 0; i < n; i++) metadata[r.String()] = Encoding.UTF8.GetString(r.Bytes());
        }
        var sync = r.Fixed(16).ToArray();
        var schema = JsonNode.Parse(metadata["avro.schema"]) ?? throw new InvalidDataException("Empty Avro schema.");
        var codec = metadata.GetValueOrDefault("avro.codec", "null");
        var names = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        var records = new List<object?>();
        while (!r.AtEnd)
        {
            var count = r.Long();
            var size = checked((int)r.Long());
            var payload = r.Fixed(size);
            if (!r.Fixed(16).Span.SequenceEqual(sync)) throw new InvalidDataException("Avro sync marker mismatch.");
            byte[] block = codec switch
            {
                "null" => payload.ToArray(),
                "deflate" => Inflate(payload),
                _ => throw new NotSupportedException($"Avro codec '{codec}' is not supported."),
            };
            var br = new AvroReader(block);
            for (var i = 0; i < count; i++) records.Add(ReadDatum(br, schema, names));
        }
        return new AvroFile(metadata, schema, records);
    }

    private static byte[] Inflate(ReadOnlyMemory<byte> payload)
    {
        using var input = new MemoryStream(payload.ToArray());
        using var deflate = new DeflateStream(input, CompressionMode.Decompress);
        using var output = new MemoryStream();
        deflate.CopyTo(output);
        return output.ToArray();
    }

    internal static void WriteDatum(AvroWriter w, JsonNode schema, object? value, Dictionary<string, JsonNode> names)
    {
        switch (schema)
        {
            case JsonArray union:
            {
                var index = UnionBranch(union, value, names);
                w.Long(index);
                WriteDatum(w, union[index]!, value, names);
                return;
            }
            case JsonObject obj:
                WriteComplex(w, obj, value, names);
                return;
            default:
                WritePrimitive(w, schema.GetValue<string>(), value, names);
                return;
        }
    }

    private static void WriteComplex(AvroWriter w, JsonObject schema, object? value, Dictionary<string, JsonNode> names)
    {
        var type = schema["type"]!;
        if (type is not JsonValue)
        {
            WriteDatum(w, type, value, names);
            return;
        }
        switch (type.GetValue<string>())
        {
            case "record":
            {
                Register(schema, names);
                var record = value as IReadOnlyDictionary<string, object?> ?? throw Mismatch(schema, value);
                foreach (var field in schema["fields"]!.AsArray())
                {
                    var name = field!["name"]!.GetValue<string>();
                    WriteDatum(w, field["type"]!, record.GetValueOrDefault(name), names);
                }
                return;
            }
            case "array":
            {
                var items = value as IEnumerable ?? throw Mismatch(schema, value);
                var list = items.Cast<object?>().ToList();
                if (list.Count > 0)
                {
                    w.Long(list.Count);
                    foreach (var item in list) WriteDatum(w, schema["items"]!, item, names);
                }
                w.Long(0);
                return;
            }
            case "map":
            {
                var map = (value as IEnumerable<KeyValuePair<string, object?>> ?? throw Mismatch(schema, value)).ToList();
                if (map.Count > 0)
                {
                    w.Long(map.Count);
                    foreach (var (k, v) in map)
                    {
                        w.String(k);
                        WriteDatum(w, schema["values"]!, v, names);
                    }
                }
                w.Long(0);
                return;
            }
            case "fixed":
            {
                Register(schema, names);
                var bytes = value as byte[] ?? throw Mismatch(schema, value);
                if (bytes.Length != schema["size"]!.GetValue<int>()) throw Mismatch(schema, value);
                w.Fixed(bytes);
                return;
            }
            case "enum":
            {
                Register(schema, names);
                var symbols = schema["symbols"]!.AsArray().Select(s => s!.GetValue<string>()).ToList();
                var index = symbols.IndexOf(value as string ?? throw Mismatch(schema, value));
                if (index < 0) throw Mismatch(schema, value);
                w.Int(index);
                return;
            }
            default:
                // A primitive with attributes, e.g. {"type": "long", "logicalType": "timestamp-micros"}.
                WritePrimitive(w, type.GetValue<string>(), value, names);
                return;
        }
    }

    private static void WritePrimitive(AvroWriter w, string type, object? value, Dictionary<string, JsonNode> names)
    {
        switch (type)
        {
            case "null":
                if (value is not null) throw new ArgumentException($"Avro null cannot hold {value}.");
                return;
            case "boolean":
                w.Boolean(value is bool b ? b : throw MismatchType(type, value));
                return;
            case "int":
                w.Int(value switch { int i => i, long l => checked((int)l), _ => throw MismatchType(type, value) });
                return;
            case "long":
                w.Long(value switch { long l => l, int i => i, _ => throw MismatchType(type, value) });
                return;
            case "float":
                w.Float(value is float f ? f : throw MismatchType(type, value));
                return;
            case "double":
                w.Double(value is double d ? d : throw MismatchType(type, value));
                return;
            case "bytes":
                w.Bytes(value as byte[] ?? throw MismatchType(type, value));
                return;
            case "string":
                w.String(value as string ?? throw MismatchType(type, value));
                return;
            default:
                WriteDatum(w, names.TryGetValue(type, out var named) ? named : throw new ArgumentException($"Unknown Avro type '{type}'."), value, names);
                return;
        }
    }

    private static int UnionBranch(JsonArray union, object? value, Dictionary<string, JsonNode> names)
    {
        for (var i = 0; i < union.Count; i++)
            if (Accepts(union[i]!, value, names)) return i;
        throw new ArgumentException($"No branch of union {union.ToJsonString()} accepts {value ?? "null"}.");
    }

    private static bool Accepts(JsonNode schema, object? value, Dictionary<string, JsonNode> names)
    {
        var type = schema is JsonObject o ? o["type"]! : schema;
        if (type is JsonObject nested) return Accepts(nested, value, names);
        var name = type.GetValue<string>();
        return name switch
        {
            "null" => value is null,
            "boolean" => value is bool,
            "int" => value is int,
            "long" => value is long or int,
            "float" => value is float,
            "double" => value is double,
            "bytes" => value is byte[],
            "string" or "enum" => value is string,
            "fixed" => value is byte[],
            "record" => value is IReadOnlyDictionary<string, object?>,
            "map" => value is IEnumerable<KeyValuePair<string, object?>>,
            "array" => value is IEnumerable and not string and not byte[],
            _ => names.TryGetValue(name, out var named) && Accepts(named, value, names),
        };
    }

    private static void Register(JsonObject schema, Dictionary<string, JsonNode> names)
    {
        var name = schema["name"]?.GetValue<string>();
        if (name is null) return;
        var ns = schema["namespace"]?.GetValue<string>();
        names[name] = schema;
        if (ns is not null) names[$"{ns}.{name}"] = schema;
    }

    internal static object? ReadDatum(AvroReader r, JsonNode schema, Dictionary<string, JsonNode> names)
    {
        switch (schema)
        {
            case JsonArray union:
                return ReadDatum(r, union[checked((int)r.Long())]!, names);
            case JsonObject obj:
            {
                var type = obj["type"]!;
                if (type is not JsonValue) return ReadDatum(r, type, names);
                switch (type.GetValue<string>())
                {
                    case "record":
                    {
                        Register(obj, names);
                        var record = new Dictionary<string, object?>(StringComparer.Ordinal);
                        foreach (var field in obj["fields"]!.AsArray())
                            record[field!["name"]!.GetValue<string>()] = ReadDatum(r, field["type"]!, names);
                        return record;
                    }
                    case "array":
                    {
                        var list = new List<object?>();
                        for (var n = r.Long(); n != 0; n = r.Long())
                        {
                            if (n < 0)
                            {
                                n = -n;
                                r.Long();
                            }
                            for (var i = 0; i < n; i++) list.Add(ReadDatum(r, obj["items"]!, names));
                        }
                        return list;
                    }
                    case "map":
                    {
                        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
                        for (var n = r.Long(); n != 0; n = r.Long())
                        {
                            if (n < 0)
                            {
                                n = -n;
                                r.Long();
                            }
                            for (var i = 0; i < n; i++) map[r.String()] = ReadDatum(r, obj["values"]!, names);
                        }
                        return map;
                    }
                    case "fixed":
                        Register(obj, names);
                        return r.Fixed(obj["size"]!.GetValue<int>()).ToArray();
                    case "enum":
                        Register(obj, names);
                        return obj["symbols"]![r.Int()]!.GetValue<string>();
                    default:
                        return ReadPrimitive(r, type.GetValue<string>(), names);
                }
            }
            default:
                return ReadPrimitive(r, schema.GetValue<string>(), names);
        }
    }

    private static object? ReadPrimitive(AvroReader r, string type, Dictionary<string, JsonNode> names) => type switch
    {
        "null" => null,
        "boolean" => r.Boolean(),
        "int" => r.Int(),
        "long" => r.Long(),
        "float" => r.Float(),
        "double" => r.Double(),
        "bytes" => r.Bytes(),
        "string" => r.String(),
        _ => ReadDatum(r, names.TryGetValue(type, out var named) ? named : throw new InvalidDataException($"Unknown Avro type '{type}'."), names),
    };

    private static ArgumentException Mismatch(JsonNode schema, object? value) =>
        new($"Value {value ?? "null"} does not fit Avro schema {schema.ToJsonString()}.");

    private static ArgumentException MismatchType(string type, object? value) =>
        new($"Value {value ?? "null"} ({value?.GetType().Name ?? "null"}) does not fit Avro type '{type}'.");
}
