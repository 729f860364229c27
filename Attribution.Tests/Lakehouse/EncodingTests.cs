using Attribution.Tests.Fixtures;
using Attribution.Projections.Lakehouse;
using Attribution.Projections.Lakehouse.Avro;
using Attribution.Projections.Lakehouse.Iceberg;
using Avro;
using Avro.Generic;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Lakehouse;

public class Murmur3BucketTests
{
    // Test values of the Iceberg spec, Appendix B.
    [Fact]
    public void Hashes_match_the_iceberg_spec_vectors()
    {
        Assert.Equal(2017239379, Murmur3.HashValue(ColumnType.Int, 34));
        Assert.Equal(2017239379, Murmur3.HashValue(ColumnType.Long, 34L));
        Assert.Equal(1210000089, Murmur3.HashValue(ColumnType.String, "iceberg"));
        Assert.Equal(-188683207, Murmur3.Hash([0x00, 0x01, 0x02, 0x03]));
        Assert.Equal(-653330422, Murmur3.HashLong(17486)); // date 2017-11-16 as days
        Assert.Equal(-662762989, Murmur3.HashLong(81_068_000_000L)); // time 22:31:08
        Assert.Equal(1392991556, Murmur3.HashLong(1)); // boolean true as hashInt(1)
        Assert.Equal(1488055340, Murmur3.Hash(Convert.FromHexString("F79C3E09677C4BBDA4793F349CB785E7")));
        var ts = ColumnValues.TimestampMicros(new DateTimeOffset(2017, 11, 16, 22, 31, 8, TimeSpan.Zero));
        Assert.Equal(-2047944441, Murmur3.HashValue(ColumnType.TimestampTz, ts));
        Assert.Equal(-1207196810, Murmur3.HashValue(ColumnType.TimestampTz, ts + 1));
        var pst = ColumnValues.TimestampMicros(new DateTimeOffset(2017, 11, 16, 14, 31, 8, TimeSpan.FromHours(-8)));
        Assert.Equal(-2047944441, Murmur3.HashValue(ColumnType.TimestampTz, pst));
    }

    [Fact]
    public void Bucket_drops_the_sign_bit_before_the_modulus()
    {
        Assert.Equal((1210000089 & int.MaxValue) % 16, Transform.Bucket(16).Apply(ColumnType.String, "iceberg"));
        Assert.Equal((-188683207 & int.MaxValue) % 7, Murmur3.Bucket(-188683207, 7));
        Assert.Equal(2017239379 % 100, Transform.Bucket(100).Apply(ColumnType.Long, 34L));
        Assert.Null(Transform.Bucket(4).Apply(ColumnType.String, null));
        Prop.ForAll(ArbMap.Default.ArbFor<string>(), s =>
        {
            var b = (int)Transform.Bucket(13).Apply(ColumnType.String, s ?? "")!;
            return b is >= 0 and < 13;
        }).CheckSeeded();
    }

    [Fact]
    public void Hour_counts_whole_hours_from_the_epoch_rounding_down()
    {
        Assert.Equal(0, Transform.Hour.Apply(ColumnType.TimestampTz, 0L));
        Assert.Equal(-1, Transform.Hour.Apply(ColumnType.TimestampTz, -1L));
        var t = ColumnValues.TimestampMicros(new DateTimeOffset(2017, 11, 16, 22, 31, 8, TimeSpan.Zero));
        Assert.Equal(419_686, Transform.Hour.Apply(ColumnType.TimestampTz, t));
    }
}

public class AvroTests
{
    // Iceberg's shapes: field ids everywhere, an int-keyed map as an array of key/value records with logicalType map.
    private const string SchemaText = """
        {"type": "record", "name": "entry", "fields": [
          {"name": "id", "type": "long", "field-id": 1},
          {"name": "name", "type": ["null", "string"], "default": null, "field-id": 2},
          {"name": "ok", "type": "boolean", "field-id": 3},
          {"name": "tags", "type": {"type": "array", "items": "string", "element-id": 5}, "field-id": 4},
          {"name": "sizes", "type": ["null", {"type": "array", "logicalType": "map", "items": {"type": "record", "name": "k7_v8",
            "fields": [{"name": "key", "type": "int", "field-id": 7}, {"name": "value", "type": "bytes", "field-id": 8}]}}],
            "default": null, "field-id": 6},
          {"name": "ratio", "type": "double", "field-id": 10}
        ]}
        """;

    private static List<GenericRecord> Records(RecordSchema schema, int n)
    {
        var pair = (RecordSchema)((ArraySchema)((UnionSchema)schema["sizes"].Schema).Schemas[1]).ItemSchema;
        return Enumerable.Range(0, n).Select(i =>
        {
            var r = new GenericRecord(schema);
            r.Add("id", (long)i * 1_000_000_007);
            r.Add("name", i % 3 == 0 ? null : $"name-{i}-é");
            r.Add("ok", i % 2 == 0);
            r.Add("tags", Enumerable.Range(0, i % 4).Select(t => (object)$"t{t}").ToArray());
            var p = new GenericRecord(pair);
            p.Add("key", i);
            p.Add("value", new byte[] { (byte)i, 1, 2 });
            r.Add("sizes", i % 5 == 0 ? null : new object[] { p });
            r.Add("ratio", i / 3.0);
            return r;
        }).ToList();
    }

    [Theory]
    [InlineData(AvroCodec.Null)]
    [InlineData(AvroCodec.Deflate)]
    public void The_header_keeps_the_schema_text_with_field_ids_and_the_map_logical_type_and_avsc_reads_every_record(AvroCodec codec)
    {
        using var dir = new TempDirectory();
        var path = dir.File($"r-{codec}.avro");
        var schema = (RecordSchema)Avro.Schema.Parse(SchemaText);
        var records = Records(schema, 250);
        AvroFiles.Write(path, SchemaText, schema, records, new Dictionary<string, string> { ["format-version"] = "2" }, codec);

        var own = AvroFiles.Read(path);
        Assert.Equal(codec == AvroCodec.Deflate ? "deflate" : "null", own.Metadata["avro.codec"]);
        Assert.Equal(SchemaText, own.Metadata["avro.schema"]);
        Assert.Equal(records.Count, own.Records.Count);

        var js = NodeReaders.Avro(path);
        Assert.Equal("2", js.GetProperty("metadata").GetProperty("format-version").GetString());
        // The header as avsc decoded it is what Iceberg readers parse for field ids and map types.
        using var header = System.Text.Json.JsonDocument.Parse(js.GetProperty("metadata").GetProperty("avro.schema").GetString()!);
        var sizes = header.RootElement.GetProperty("fields")[4];
        Assert.Equal(6, sizes.GetProperty("field-id").GetInt32());
        Assert.Equal("map", sizes.GetProperty("type")[1].GetProperty("logicalType").GetString());
        Assert.Equal(7, sizes.GetProperty("type")[1].GetProperty("items").GetProperty("fields")[0].GetProperty("field-id").GetInt32());
        var read = js.GetProperty("records");
        Assert.Equal(records.Count, read.GetArrayLength());
        for (var i = 0; i < records.Count; i++)
        {
            var expected = records[i];
            var r = read[i];
            Assert.Equal((long)expected["id"], TestData.JsLong(r.GetProperty("id")));
            Assert.Equal((string?)expected["name"], r.GetProperty("name").ValueKind == System.Text.Json.JsonValueKind.Null ? null : r.GetProperty("name").GetString());
            Assert.Equal((bool)expected["ok"], r.GetProperty("ok").GetBoolean());
            Assert.Equal(((object[])expected["tags"]).Length, r.GetProperty("tags").GetArrayLength());
            Assert.Equal((double)expected["ratio"], r.GetProperty("ratio").GetDouble());
            if (expected["sizes"] is object[] pairs)
            {
                var pair = r.GetProperty("sizes")[0];
                Assert.Equal(i, pair.GetProperty("key").GetInt32());
                Assert.Equal(Convert.ToHexString((byte[])((GenericRecord)pairs[0])["value"]), pair.GetProperty("value").GetProperty("$hex").GetString()!.ToUpperInvariant());
            }
            else
            {
                Assert.Equal(System.Text.Json.JsonValueKind.Null, r.GetProperty("sizes").ValueKind);
            }
        }
    }
}
