using Attribution.Tests.Fixtures;
using System.Buffers;
using System.Text.Json.Nodes;
using Attribution.Projections.Lakehouse;
using Attribution.Projections.Lakehouse.Avro;
using Attribution.Projections.Lakehouse.Iceberg;
using Attribution.Projections.Lakehouse.Parquet;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Lakehouse;

public class ThriftCompactTests
{
    private static byte[] Encode(Action<ThriftCompactWriter> write)
    {
        var w = new ThriftCompactWriter();
        w.BeginStruct();
        write(w);
        w.EndStruct();
        return w.ToArray();
    }

    [Fact]
    public void Short_field_headers_pack_the_id_delta_with_the_type()
    {
        Assert.Equal(new byte[] { 0x15, 0x0A, 0x00 }, Encode(w => w.I32Field(1, 5)));
        Assert.Equal(new byte[] { 0x16, 0x03, 0x00 }, Encode(w => w.I64Field(1, -2)));
        Assert.Equal(new byte[] { 0x18, 0x02, (byte)'a', (byte)'b', 0x00 }, Encode(w => w.StringField(1, "ab")));
        Assert.Equal(new byte[] { 0x21, 0x12, 0x00 }, Encode(w =>
        {
            w.BoolField(2, true);
            w.BoolField(3, false);
        }));
    }

    [Fact]
    public void Field_id_jumps_beyond_fifteen_use_the_long_form()
    {
        Assert.Equal(new byte[] { 0x15, 0x02, 0x05, 0x28, 0x01, 0x00 }, Encode(w =>
        {
            w.I32Field(1, 1);
            w.I32Field(20, -1);
        }));
    }

    [Fact]
    public void Nested_structs_restart_field_ids_and_restore_the_outer_one()
    {
        Assert.Equal(new byte[] { 0x1C, 0x15, 0x02, 0x00, 0x15, 0x02, 0x00 }, Encode(w =>
        {
            w.BeginStructField(1);
            w.I32Field(1, 1);
            w.EndStruct();
            w.I32Field(2, 1);
        }));
    }

    [Fact]
    public void List_headers_hold_small_sizes_inline_and_large_ones_as_varint()
    {
        Assert.Equal(new byte[] { 0x19, 0x35, 0x02, 0x04, 0x06, 0x00 }, Encode(w =>
        {
            w.ListFieldHeader(1, CompactType.I32, 3);
            w.I32(1);
            w.I32(2);
            w.I32(3);
        }));
        var big = Encode(w =>
        {
            w.ListFieldHeader(1, CompactType.I32, 20);
            for (var i = 0; i < 20; i++) w.I32(0);
        });
        Assert.Equal(new byte[] { 0x19, 0xF5, 0x14 }, big[..3]);
    }

    [Fact]
    public void Reader_decodes_what_the_writer_encodes()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<(int, long, string, bool, short)>(), t =>
        {
            var (i, l, s, b, id) = t;
            var fieldId = (short)(Math.Abs((int)id) % 30000 + 1);
            var bytes = Encode(w =>
            {
                w.I32Field(1, i);
                w.I64Field(2, l);
                w.StringField(3, s ?? "");
                w.BoolField(4, b);
                w.BeginStructField(5);
                w.ListFieldHeader(1, CompactType.Binary, 2);
                w.String("x");
                w.String(s ?? "");
                w.EndStruct();
                if (fieldId > 5) w.I64Field(fieldId, l);
            });
            var r = new ThriftCompactReader(bytes).ReadStruct();
            return r.Int(1) == i && r.Long(2) == l && r.String(3) == (s ?? "") && (bool)r.Fields[4] == b &&
                   r.Struct(5).List(1).Count == 2 && (fieldId <= 5 || r.Long(fieldId) == l);
        }).CheckSeeded();
    }
}

public class RleHybridTests
{
    private static byte[] Encode(int[] values, int bitWidth)
    {
        var output = new ArrayBufferWriter<byte>();
        RleHybrid.Encode(values, bitWidth, output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Eight_equal_values_become_one_rle_run()
    {
        Assert.Equal(new byte[] { 0x10, 0x01 }, Encode([1, 1, 1, 1, 1, 1, 1, 1], 1));
        Assert.Equal(new byte[] { 0xC8, 0x01, 0x00 }, Encode(Enumerable.Repeat(0, 100).ToArray(), 1));
    }

    [Fact]
    public void Mixed_values_are_bit_packed_lsb_first()
    {
        Assert.Equal(new byte[] { 0x03, 0x55 }, Encode([1, 0, 1, 0, 1, 0, 1, 0], 1));
        // The example of Parquet's Encodings.md: 0..7 at bit width 3 pack to 10001000 11000110 11111010.
        Assert.Equal(new byte[] { 0x03, 0x88, 0xC6, 0xFA }, Encode([0, 1, 2, 3, 4, 5, 6, 7], 3));
    }

    [Fact]
    public void A_short_tail_is_padded_into_a_whole_group()
    {
        Assert.Equal(new byte[] { 0x03, 0x05 }, Encode([1, 0, 1], 1));
        Assert.Equal(new int[] { 1, 0, 1 }, RleHybrid.Decode([0x03, 0x05], 1, 3));
    }

    [Fact]
    public void Literals_are_topped_up_to_a_group_before_an_rle_run()
    {
        int[] values = [1, 0, 1, .. Enumerable.Repeat(1, 20)];
        var encoded = Encode(values, 1);
        Assert.Equal(0x03, encoded[0]); // one bit-packed group of 8 first
        Assert.Equal(values, RleHybrid.Decode(encoded, 1, values.Length));
    }

    [Fact]
    public void Round_trips_random_levels()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<bool[]>(), ArbMap.Default.ArbFor<byte>(), (bits, width) =>
        {
            var bitWidth = width % 8 + 1;
            var values = bits.Select((b, i) => b ? (i * 7) % (1 << bitWidth) : 0).ToArray();
            return RleHybrid.Decode(Encode(values, bitWidth), bitWidth, values.Length).SequenceEqual(values);
        }).CheckSeeded();
    }
}

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
    private static byte[] Encode(Action<AvroWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        write(new AvroWriter(buffer));
        return buffer.WrittenSpan.ToArray();
    }

    [Fact]
    public void Longs_are_zigzag_varints()
    {
        Assert.Equal(new byte[] { 0x00 }, Encode(w => w.Long(0)));
        Assert.Equal(new byte[] { 0x01 }, Encode(w => w.Long(-1)));
        Assert.Equal(new byte[] { 0x02 }, Encode(w => w.Long(1)));
        Assert.Equal(new byte[] { 0x7F }, Encode(w => w.Long(-64)));
        Assert.Equal(new byte[] { 0x80, 0x01 }, Encode(w => w.Long(64)));
        Assert.Equal(new byte[] { 0x06, 0x66, 0x6F, 0x6F }, Encode(w => w.String("foo")));
        Prop.ForAll(ArbMap.Default.ArbFor<long>(), v => new AvroReader(Encode(w => w.Long(v))).Long() == v).CheckSeeded();
    }

    private static readonly JsonNode Schema = JsonNode.Parse("""
        {"type": "record", "name": "entry", "fields": [
          {"name": "id", "type": "long", "field-id": 1},
          {"name": "name", "type": ["null", "string"], "default": null, "field-id": 2},
          {"name": "ok", "type": "boolean", "field-id": 3},
          {"name": "tags", "type": {"type": "array", "items": "string", "element-id": 5}, "field-id": 4},
          {"name": "sizes", "type": ["null", {"type": "array", "logicalType": "map", "items": {"type": "record", "name": "k7_v8",
            "fields": [{"name": "key", "type": "int", "field-id": 7}, {"name": "value", "type": "bytes", "field-id": 8}]}}],
            "default": null, "field-id": 6},
          {"name": "hash", "type": {"type": "fixed", "name": "md5", "size": 4}, "field-id": 9},
          {"name": "ratio", "type": "double", "field-id": 10}
        ]}
        """)!;

    private static List<object?> Records(int n) => Enumerable.Range(0, n).Select(i => (object?)new Dictionary<string, object?>
    {
        ["id"] = (long)i * 1_000_000_007,
        ["name"] = i % 3 == 0 ? null : $"name-{i}-é",
        ["ok"] = i % 2 == 0,
        ["tags"] = Enumerable.Range(0, i % 4).Select(t => (object?)$"t{t}").ToList(),
        ["sizes"] = i % 5 == 0 ? null : new List<object?>
        {
            new Dictionary<string, object?> { ["key"] = i, ["value"] = new byte[] { (byte)i, 1, 2 } },
        },
        ["hash"] = new byte[] { 1, 2, 3, (byte)i },
        ["ratio"] = i / 3.0,
    }).ToList();

    [Theory]
    [InlineData(AvroCodec.Null)]
    [InlineData(AvroCodec.Deflate)]
    public void Container_round_trips_through_our_reader_and_avsc(AvroCodec codec)
    {
        using var dir = new TempDirectory();
        var path = dir.File($"r-{codec}.avro");
        var records = Records(250);
        using (var stream = File.Create(path))
            AvroContainer.Write(stream, Schema, records, new Dictionary<string, string> { ["format-version"] = "2" }, codec, recordsPerBlock: 100);

        var own = AvroContainer.Read(path);
        Assert.Equal(codec == AvroCodec.Deflate ? "deflate" : "null", own.Metadata["avro.codec"]);
        Assert.Equal("2", own.Metadata["format-version"]);
        Assert.Equal(records.Count, own.Records.Count);
        for (var i = 0; i < records.Count; i++)
        {
            var expected = (Dictionary<string, object?>)records[i]!;
            var actual = (Dictionary<string, object?>)own.Records[i]!;
            Assert.Equal(expected["id"], actual["id"]);
            Assert.Equal(expected["name"], actual["name"]);
            Assert.Equal(expected["ok"], actual["ok"]);
            Assert.Equal((List<object?>)expected["tags"]!, (List<object?>)actual["tags"]!);
            Assert.Equal((byte[])expected["hash"]!, (byte[])actual["hash"]!);
            Assert.Equal(expected["sizes"] is null, actual["sizes"] is null);
        }

        var js = NodeReaders.Avro(path);
        Assert.Equal("2", js.GetProperty("metadata").GetProperty("format-version").GetString());
        var read = js.GetProperty("records");
        Assert.Equal(records.Count, read.GetArrayLength());
        for (var i = 0; i < records.Count; i++)
        {
            var expected = (Dictionary<string, object?>)records[i]!;
            var r = read[i];
            Assert.Equal((long)expected["id"]!, TestData.JsLong(r.GetProperty("id")));
            Assert.Equal((string?)expected["name"], r.GetProperty("name").ValueKind == System.Text.Json.JsonValueKind.Null ? null : r.GetProperty("name").GetString());
            Assert.Equal((bool)expected["ok"]!, r.GetProperty("ok").GetBoolean());
            Assert.Equal(((List<object?>)expected["tags"]!).Count, r.GetProperty("tags").GetArrayLength());
            Assert.Equal(Convert.ToHexString((byte[])expected["hash"]!), r.GetProperty("hash").GetProperty("$hex").GetString()!.ToUpperInvariant());
            Assert.Equal((double)expected["ratio"]!, r.GetProperty("ratio").GetDouble());
            if (expected["sizes"] is List<object?> sizes)
            {
                var pair = r.GetProperty("sizes")[0];
                Assert.Equal(i, pair.GetProperty("key").GetInt32());
                Assert.Equal(Convert.ToHexString((byte[])((Dictionary<string, object?>)sizes[0]!)["value"]!), pair.GetProperty("value").GetProperty("$hex").GetString()!.ToUpperInvariant());
            }
        }
    }

    [Fact]
    public void Values_that_do_not_fit_the_schema_are_rejected()
    {
        var schema = JsonNode.Parse("""{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}""")!;
        var bad = new Dictionary<string, object?> { ["a"] = "text" };
        Assert.Throws<ArgumentException>(() => AvroContainer.Write(Stream.Null, schema, [bad]));
    }
}
