using Avro.File;
using Avro.Generic;
using Avro.IO;
using AvroSchema = Avro.Schema;

namespace Attribution.Projections.Lakehouse.Avro;

public enum AvroCodec
{
    Null,
    /// <summary>Raw RFC 1951 deflate per block, as the Avro spec defines the "deflate" codec.</summary>
    Deflate,
}

/// <summary>A decoded container file: header metadata and the records.</summary>
public sealed record AvroFile(IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<GenericRecord> Records);

/// <summary>
/// Avro object container files through Apache.Avro's generic API. Its schema parser drops attributes it does not
/// know on some types (<c>"logicalType": "map"</c> on Iceberg's int-keyed maps), so the header's <c>avro.schema</c>
/// is rewritten with the caller's schema text: Iceberg readers need the field ids and the map logical type there.
/// </summary>
public static class AvroFiles
{
    private const string SchemaKey = "avro.schema";

    /// <summary>Writes a new container file (fails if <paramref name="path"/> exists) and flushes it to disk.</summary>
    public static void Write(
        string path, string schemaJson, AvroSchema schema, IEnumerable<GenericRecord> records,
        IReadOnlyDictionary<string, string>? metadata = null, AvroCodec codec = AvroCodec.Deflate)
    {
        ArgumentNullException.ThrowIfNull(records);
        using var buffer = new MemoryStream();
        var codecImpl = Codec.CreateCodec(codec == AvroCodec.Deflate ? Codec.Type.Deflate : Codec.Type.Null);
        using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), buffer, codecImpl, true))
        {
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
                if (!writer.IsReservedMeta(key)) writer.SetMeta(key, value);
            foreach (var record in records) writer.Append(record);
        }

        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        WriteWithSchemaText(buffer.ToArray(), schemaJson, file);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Copies a container file with its header's schema replaced by <paramref name="schemaJson"/>; the
    /// blocks and the sync marker stay as Apache.Avro wrote them.</summary>
    private static void WriteWithSchemaText(byte[] container, string schemaJson, Stream output)
    {
        using var input = new MemoryStream(container, writable: false);
        var decoder = new BinaryDecoder(input);
        var magic = new byte[4];
        decoder.ReadFixed(magic);
        var entries = new List<(string Key, byte[] Value)>();
        for (var n = decoder.ReadMapStart(); n != 0; n = decoder.ReadMapNext())
            for (var i = 0; i < n; i++)
                entries.Add((decoder.ReadString(), decoder.ReadBytes()));
        var sync = new byte[16];
        decoder.ReadFixed(sync);
        var blocksStart = (int)input.Position;

        var encoder = new BinaryEncoder(output);
        encoder.WriteFixed(magic);
        encoder.WriteMapStart();
        encoder.SetItemCount(entries.Count);
        foreach (var (key, value) in entries)
        {
            encoder.StartItem();
            encoder.WriteString(key);
            encoder.WriteBytes(key == SchemaKey ? System.Text.Encoding.UTF8.GetBytes(schemaJson) : value);
        }
        encoder.WriteMapEnd();
        encoder.WriteFixed(sync);
        encoder.Flush();
        output.Write(container.AsSpan(blocksStart));
    }

    public static AvroFile Read(string path)
    {
        using var reader = DataFileReader<GenericRecord>.OpenReader(path);
        var metadata = reader.GetMetaKeys().ToDictionary(k => k, reader.GetMetaString, StringComparer.Ordinal);
        var records = new List<GenericRecord>();
        while (reader.HasNext()) records.Add(reader.Next());
        return new AvroFile(metadata, records);
    }
}
