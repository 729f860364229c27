using System.Text.Json;
using Attribution.Tests.Fixtures;
using Attribution.Projections.Lakehouse;
using Attribution.Projections.Lakehouse.Parquet;
using FsCheck;
using FsCheck.Fluent;

namespace Attribution.Tests.Lakehouse;

public class ParquetTests
{
    [Theory]
    [InlineData(ParquetCompression.Uncompressed)]
    [InlineData(ParquetCompression.Gzip)]
    [InlineData(ParquetCompression.Snappy)]
    [InlineData(ParquetCompression.Zstd)]
    public void Hyparquet_reads_every_value_row_group_and_statistic(ParquetCompression compression)
    {
        using var dir = new TempDirectory();
        var rows = TestData.AllTypesRows(2_500);
        var file = dir.File("all.parquet");
        var metrics = ParquetFileWriter.Write(file, TestData.AllTypes, rows,
            new ParquetWriteOptions { Compression = compression, RowGroupRows = 1_000, PageSizeBytes = 4_096 });

        var result = NodeReaders.Parquet(file);
        var metadata = result.GetProperty("metadata");
        var read = result.GetProperty("rows");
        Assert.Equal(rows.Count, read.GetArrayLength());
        for (var r = 0; r < rows.Count; r++)
        {
            var row = read[r];
            for (var c = 0; c < TestData.AllTypes.Fields.Count; c++)
            {
                var f = TestData.AllTypes.Fields[c];
                row.TryGetProperty(f.Name, out var value);
                TestData.AssertJsValue(f.Type, rows[r][c], value, $"row {r} column {f.Name}");
            }
        }

        var schema = metadata.GetProperty("schema");
        for (var c = 0; c < TestData.AllTypes.Fields.Count; c++)
        {
            var f = TestData.AllTypes.Fields[c];
            var element = schema[c + 1];
            Assert.Equal(f.Name, element.GetProperty("name").GetString());
            Assert.Equal(f.Id, element.GetProperty("field_id").GetInt32());
            Assert.Equal(f.Required ? "REQUIRED" : "OPTIONAL", element.GetProperty("repetition_type").GetString());
        }
        Assert.Equal("STRING", schema[2].GetProperty("logical_type").GetProperty("type").GetString());
        var ts = schema[6].GetProperty("logical_type");
        Assert.Equal("TIMESTAMP", ts.GetProperty("type").GetString());
        Assert.True(ts.GetProperty("isAdjustedToUTC").GetBoolean());
        Assert.Equal("MICROS", ts.GetProperty("unit").GetString());

        var rowGroups = metadata.GetProperty("row_groups");
        Assert.Equal(3, rowGroups.GetArrayLength());
        Assert.Equal(3, metrics.RowGroupOffsets.Count);
        for (var g = 0; g < 3; g++)
        {
            var groupRows = rows.Skip(g * 1_000).Take(1_000).ToList();
            var columns = rowGroups[g].GetProperty("columns");
            var idStats = columns[0].GetProperty("meta_data").GetProperty("statistics");
            Assert.Equal(groupRows.Min(r => (long)r[0]!), TestData.JsLong(idStats.GetProperty("min_value")));
            Assert.Equal(groupRows.Max(r => (long)r[0]!), TestData.JsLong(idStats.GetProperty("max_value")));
            var nameStats = columns[1].GetProperty("meta_data").GetProperty("statistics");
            Assert.Equal(groupRows.Count(r => r[1] is null), TestData.JsLong(nameStats.GetProperty("null_count")));
            Assert.Equal(compression.ToString().ToUpperInvariant(), columns[1].GetProperty("meta_data").GetProperty("codec").GetString());
            // Iceberg's split offsets: where the row group's first chunk (its dictionary page, if any) starts.
            var first = columns[0].GetProperty("meta_data");
            var start = first.TryGetProperty("dictionary_page_offset", out var dictionary) && dictionary.ValueKind != JsonValueKind.Null
                ? TestData.JsLong(dictionary)
                : TestData.JsLong(first.GetProperty("data_page_offset"));
            Assert.Equal(start, metrics.RowGroupOffsets[g]);
        }
    }

    [Fact]
    public void Metrics_carry_counts_bounds_and_sizes_for_iceberg()
    {
        using var dir = new TempDirectory();
        var rows = TestData.AllTypesRows(3_000);
        var file = dir.File("m.parquet");
        var metrics = ParquetFileWriter.Write(file, TestData.AllTypes, rows, new ParquetWriteOptions { RowGroupRows = 700 });

        Assert.Equal(rows.Count, metrics.RecordCount);
        Assert.Equal(new FileInfo(file).Length, metrics.FileSizeBytes);
        Assert.Equal(5, metrics.RowGroupOffsets.Count);
        Assert.Equal(4, metrics.RowGroupOffsets[0]);
        for (var c = 0; c < TestData.AllTypes.Fields.Count; c++)
        {
            var f = TestData.AllTypes.Fields[c];
            var m = metrics.Columns[c];
            var values = rows.Select(r => ColumnValues.Canonical(f.Type, r[c])).Where(v => v is not null).Cast<object>().ToList();
            Assert.Equal(f.Id, m.FieldId);
            Assert.Equal(rows.Count, m.ValueCount);
            Assert.Equal(rows.Count - values.Count, m.NullCount);
            Assert.True(m.SizeBytes > 0);
            var lower = ColumnValues.FromIcebergBinary(f.Type, m.LowerBound);
            var upper = ColumnValues.FromIcebergBinary(f.Type, m.UpperBound);
            Assert.All(values, v => Assert.True(ColumnValues.Compare(f.Type, lower, v) <= 0 && ColumnValues.Compare(f.Type, v, upper) <= 0));
            Assert.Contains(values, v => ColumnValues.Compare(f.Type, v, lower) == 0);
            Assert.Contains(values, v => ColumnValues.Compare(f.Type, v, upper) == 0);
        }
        Assert.Equal(0, metrics.Columns[4].NanCount);
        Assert.Null(metrics.Columns[0].NanCount);
    }

    [Fact]
    public void DuckDB_reads_a_file_with_its_own_parquet_reader()
    {
        using var dir = new TempDirectory();
        var rows = TestData.AllTypesRows(1_200);
        var file = dir.File("duck.parquet");
        ParquetFileWriter.Write(file, TestData.AllTypes, rows, new ParquetWriteOptions { RowGroupRows = 500 });

        var result = NodeReaders.DuckDb(file);
        var types = result.GetProperty("types").EnumerateArray().Select(t => t.GetProperty("type").GetString()!).ToArray();
        Assert.Equal(["BIGINT", "VARCHAR", "BOOLEAN", "INTEGER", "DOUBLE", "TIMESTAMP WITH TIME ZONE"], types);
        var read = result.GetProperty("rows");
        Assert.Equal(rows.Count, read.GetArrayLength());
        for (var r = 0; r < rows.Count; r++)
            for (var c = 0; c < TestData.AllTypes.Fields.Count; c++)
            {
                var f = TestData.AllTypes.Fields[c];
                TestData.AssertJsValue(f.Type, rows[r][c], read[r].GetProperty(f.Name), $"row {r} column {f.Name}");
            }
        var fieldIds = result.GetProperty("schema").EnumerateArray().Skip(1).Select(s => (int)TestData.JsLong(s.GetProperty("field_id")));
        Assert.Equal(TestData.AllTypes.Fields.Select(f => f.Id), fieldIds);
        Assert.Equal(3 * TestData.AllTypes.Fields.Count, result.GetProperty("stats").GetArrayLength());
    }

    [Fact]
    public void DuckDB_predicates_on_a_timestamp_column_return_the_rows_a_filter_here_finds()
    {
        // Statistics in the wrong unit (Parquet.Net 6.1 writes MICROS columns' min/max in milliseconds) make DuckDB
        // skip every row group for such a predicate, so the counts come from row groups it had to choose by them.
        using var dir = new TempDirectory();
        var rows = TestData.AllTypesRows(6_000);
        var file = dir.File("ts.parquet");
        ParquetFileWriter.Write(file, TestData.AllTypes, rows, new ParquetWriteOptions { RowGroupRows = 500 });
        var times = rows.Select(r => r[5] is DateTimeOffset t ? TestData.Micros(t) : (long?)null).ToList();
        var present = times.Where(t => t is not null).Select(t => t!.Value).Order().ToList();

        var windows = new (long From, long To)[]
        {
            (present[0], present[^1] + 1),
            (present[1_000], present[1_001]),
            (present[2_345] + 1, present[4_000]),
            (present[^1], present[^1] + 1),
            (present[^1] + 1, present[^1] + 1_000_000),
        };
        foreach (var (from, to) in windows)
        {
            var sql = $"""
                SELECT count(*) AS n FROM read_parquet({NodeReaders.SqlString(file)})
                WHERE ts >= make_timestamp({from}::BIGINT)::TIMESTAMPTZ AND ts < make_timestamp({to}::BIGINT)::TIMESTAMPTZ
                """;
            var expected = times.Count(t => t >= from && t < to);
            Assert.Equal(expected, TestData.JsLong(NodeReaders.DuckDbQuery(sql)[0].GetProperty("n")));
        }

        var one = present[3_210];
        var exact = NodeReaders.DuckDbQuery(
            $"SELECT id FROM read_parquet({NodeReaders.SqlString(file)}) WHERE ts = make_timestamp({one}::BIGINT)::TIMESTAMPTZ ORDER BY id");
        var ids = rows.Where(r => r[5] is DateTimeOffset t && TestData.Micros(t) == one).Select(r => (long)r[0]!).Order().ToList();
        Assert.Equal(ids, exact.EnumerateArray().Select(r => TestData.JsLong(r.GetProperty("id"))).ToList());

        // The row groups' statistics themselves, in microseconds.
        var stats = NodeReaders.DuckDbQuery($"""
            SELECT row_group_id, epoch_us(stats_min::TIMESTAMPTZ) AS lo, epoch_us(stats_max::TIMESTAMPTZ) AS hi
            FROM parquet_metadata({NodeReaders.SqlString(file)}) WHERE path_in_schema = 'ts' ORDER BY row_group_id
            """);
        Assert.Equal(12, stats.GetArrayLength());
        for (var g = 0; g < 12; g++)
        {
            var group = times.Skip(g * 500).Take(500).Where(t => t is not null).Select(t => t!.Value).ToList();
            Assert.Equal(group.Min(), TestData.JsLong(stats[g].GetProperty("lo")));
            Assert.Equal(group.Max(), TestData.JsLong(stats[g].GetProperty("hi")));
        }
    }

    [Fact]
    public void Own_reader_round_trips_random_rows()
    {
        var schema = new TableSchema(
            new SchemaField(1, "k", ColumnType.String, Required: true),
            new SchemaField(2, "v", ColumnType.Long),
            new SchemaField(3, "b", ColumnType.Boolean),
            new SchemaField(4, "d", ColumnType.Double));
        using var dir = new TempDirectory();
        var n = 0;
        Prop.ForAll(ArbMap.Default.ArbFor<(NonNull<string>, long?, bool?, NormalFloat)[]>(), (input) =>
        {
            var rows = input.Select(t => new object?[] { t.Item1.Get, t.Item2, t.Item3, t.Item4.Get }).ToList();
            var file = dir.File($"p{n++}.parquet");
            ParquetFileWriter.Write(file, schema, rows, new ParquetWriteOptions
            {
                RowGroupRows = 7,
                PageSizeBytes = 16,
                Compression = (ParquetCompression)(n % 4),
            });
            var back = ParquetFileReader.ReadRows(file, schema);
            return back.Count == rows.Count && back.Zip(rows).All(p => p.First.SequenceEqual(p.Second));
        }).CheckSeeded();
    }

    [Fact]
    public void Copying_row_groups_with_ranges_and_masks_writes_the_chosen_rows_in_row_groups_of_the_target_size()
    {
        // Compaction and copy-on-write copy columns from file to file without row objects; whatever the input's
        // row groups, the ranges and the masks, the result must hold the chosen rows, grouped as a direct write would.
        using var dir = new TempDirectory();
        var n = 0;
        Prop.ForAll(ArbMap.Default.ArbFor<int>(), seed =>
            {
                var random = new Random(seed);
                var (count, sourceGroup, targetGroup) = (random.Next(1, 400), random.Next(1, 90), random.Next(1, 90));
                var rows = TestData.AllTypesRows(count, seed);
                var source = dir.File($"s{n}.parquet");
                var options = new ParquetWriteOptions { RowGroupRows = sourceGroup, PageSizeBytes = 64, Compression = (ParquetCompression)(n % 4) };
                ParquetFileWriter.Write(source, TestData.AllTypes, rows, options);

                var chosen = new List<object?[]>();
                var copied = dir.File($"c{n}.parquet");
                using (var input = ParquetFile.Open(source, TestData.AllTypes))
                using (var writer = ParquetStreamWriter.Create(copied, TestData.AllTypes, options with { RowGroupRows = targetGroup }))
                {
                    var first = 0;
                    for (var g = 0; g < input.RowGroupCount; first += input.RowGroupRows(g), g++)
                    {
                        var groupRows = input.RowGroupRows(g);
                        var skip = random.Next(groupRows);
                        var take = random.Next(groupRows - skip + 1);
                        var keep = random.Next(2) == 0 ? null : Enumerable.Range(0, groupRows).Select(_ => random.Next(3) > 0).ToArray();
                        writer.AppendFrom(input, g, skip, take, keep);
                        for (var r = skip; r < skip + take; r++)
                            if (keep?[r] != false) chosen.Add(rows[first + r]);
                    }
                    Assert.Equal(count, first);
                    writer.Finish();
                }

                n++;
                var back = ParquetFileReader.ReadRows(copied, TestData.AllTypes);
                using var copy = ParquetFile.Open(copied, TestData.AllTypes);
                var groups = Enumerable.Range(0, copy.RowGroupCount).Select(copy.RowGroupRows).ToList();
                var expectedGroups = Enumerable.Range(0, (chosen.Count + targetGroup - 1) / targetGroup)
                    .Select(g => Math.Min(targetGroup, chosen.Count - g * targetGroup)).ToList();
                return back.Count == chosen.Count
                    && back.Zip(chosen).All(p => p.First.SequenceEqual(p.Second.Select((v, c) => ColumnValues.ToPublic(
                        TestData.AllTypes.Fields[c].Type, ColumnValues.Canonical(TestData.AllTypes.Fields[c].Type, v)))))
                    && groups.SequenceEqual(expectedGroups);
            }).CheckSeeded();
    }

    [Fact]
    public void A_file_read_as_another_physical_type_is_refused()
    {
        using var dir = new TempDirectory();
        var file = dir.File("t.parquet");
        ParquetFileWriter.Write(file, TestData.AllTypes, TestData.AllTypesRows(10));
        var wrong = new TableSchema(new SchemaField(1, "id", ColumnType.String, Required: true));
        Assert.Throws<InvalidDataException>(() => ParquetFile.Open(file, wrong));
        File.WriteAllBytes(dir.File("junk.parquet"), new byte[64]);
        Assert.Throws<InvalidDataException>(() => ParquetFile.Open(dir.File("junk.parquet"), TestData.AllTypes));
    }

    [Fact]
    public void Null_in_required_column_is_rejected()
    {
        using var dir = new TempDirectory();
        var rows = new List<object?[]> { new object?[] { null, "x", true, 1, 1.0, null } };
        Assert.Throws<ArgumentException>(() => ParquetFileWriter.Write(dir.File("bad.parquet"), TestData.AllTypes, rows));
    }
}
