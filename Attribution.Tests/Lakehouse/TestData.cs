using System.Globalization;
using System.Text.Json;
using Attribution.Projections.Lakehouse;

namespace Attribution.Tests.Lakehouse;

internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "attribution-lakehouse-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        // LAKEHOUSE_KEEP_TEMP=1 keeps the files for a look with other readers.
        if (Environment.GetEnvironmentVariable("LAKEHOUSE_KEEP_TEMP") == "1") return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is not worth failing a test over.
        }
    }
}

internal static class TestData
{
    public static readonly TableSchema AllTypes = new(
        new SchemaField(1, "id", ColumnType.Long, Required: true),
        new SchemaField(2, "name", ColumnType.String),
        new SchemaField(3, "flag", ColumnType.Boolean),
        new SchemaField(4, "count", ColumnType.Int),
        new SchemaField(5, "amount", ColumnType.Double),
        new SchemaField(6, "ts", ColumnType.TimestampTz));

    public static readonly DateTimeOffset BaseTime = new(2024, 3, 1, 10, 15, 0, TimeSpan.Zero);

    /// <summary>Deterministic rows with nulls in every optional column, unicode, negatives and sub-millisecond times.</summary>
    public static List<object?[]> AllTypesRows(int count, int seed = 1)
    {
        var random = new Random(seed);
        var rows = new List<object?[]>(count);
        for (var i = 0; i < count; i++)
        {
            rows.Add(
            [
                (long)i * 1_000_003 - 500,
                i % 7 == 3 ? null : i % 11 == 0 ? $"ünï-{i}-€𝄞" : $"name-{random.Next(100_000)}",
                i % 5 == 4 ? null : i % 3 == 0,
                i % 13 == 6 ? null : random.Next(-1000, 1000),
                i % 17 == 8 ? null : Math.Round(random.NextDouble() * 1000 - 500, 3),
                i % 19 == 9 ? null : BaseTime.AddTicks(i * 37_000_010L),
            ]);
        }
        return rows;
    }

    public static long Micros(DateTimeOffset t) => ColumnValues.TimestampMicros(t);

    /// <summary>Compares one value we wrote with what a JS reader printed (bigints arrive as strings).</summary>
    public static void AssertJsValue(ColumnType type, object? expected, JsonElement actual, string context)
    {
        if (expected is null)
        {
            Assert.True(actual.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined, $"{context}: expected null, got {actual}");
            return;
        }
        switch (type)
        {
            case ColumnType.Boolean:
                Assert.Equal((bool)expected, actual.GetBoolean());
                break;
            case ColumnType.Int:
                Assert.Equal(Convert.ToInt32(expected, CultureInfo.InvariantCulture), actual.GetInt32());
                break;
            case ColumnType.Long:
                Assert.Equal(Convert.ToInt64(expected, CultureInfo.InvariantCulture), JsLong(actual));
                break;
            case ColumnType.Double:
                Assert.Equal((double)expected, actual.GetDouble());
                break;
            case ColumnType.String:
                Assert.Equal((string)expected, actual.GetString());
                break;
            case ColumnType.TimestampTz:
                Assert.Equal(ColumnValues.TimestampMicros(expected), JsLong(actual));
                break;
        }
    }

    public static long JsLong(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? long.Parse(e.GetString()!, CultureInfo.InvariantCulture) : e.GetInt64();
}
