using System.Globalization;
using System.Text;

namespace Attribution.Projections.Lakehouse.Iceberg;

/// <summary>The partition transforms this writer supports; the string form is the one Iceberg metadata uses.</summary>
public abstract record Transform
{
    public static Transform Identity { get; } = new IdentityTransform();
    public static Transform Hour { get; } = new HourTransform();
    public static Transform Bucket(int buckets) => new BucketTransform(buckets);

    public abstract string Name { get; }

    internal abstract ColumnType ResultType(ColumnType source);

    /// <summary>Transforms a canonical source value; null stays null, as the spec requires of every transform.</summary>
    internal abstract object? Apply(ColumnType source, object? canonical);

    internal abstract string HumanString(ColumnType source, object value);

    public static Transform Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name == "identity") return Identity;
        if (name == "hour") return Hour;
        if (name.StartsWith("bucket[", StringComparison.Ordinal) && name.EndsWith(']'))
            return Bucket(int.Parse(name.AsSpan(7, name.Length - 8), CultureInfo.InvariantCulture));
        throw new NotSupportedException($"Partition transform '{name}' is not supported by this writer.");
    }

    public override string ToString() => Name;

    private sealed record IdentityTransform : Transform
    {
        public override string Name => "identity";

        internal override ColumnType ResultType(ColumnType source) =>
            source == ColumnType.Double ? throw new NotSupportedException("Identity partitions on doubles are not supported.") : source;

        internal override object? Apply(ColumnType source, object? canonical) => canonical;

        internal override string HumanString(ColumnType source, object value) => source switch
        {
            ColumnType.TimestampTz => ColumnValues.FromMicros((long)value).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'+00:00'", CultureInfo.InvariantCulture),
            ColumnType.Boolean => (bool)value ? "true" : "false",
            _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        };
    }

    private sealed record HourTransform : Transform
    {
        private const long MicrosPerHour = 3_600_000_000L;

        public override string Name => "hour";

        internal override ColumnType ResultType(ColumnType source) =>
            source == ColumnType.TimestampTz ? ColumnType.Int : throw new NotSupportedException($"hour() needs a timestamp column, not {source}.");

        internal override object? Apply(ColumnType source, object? canonical) =>
            canonical is null ? null : checked((int)FloorDiv((long)canonical, MicrosPerHour));

        internal override string HumanString(ColumnType source, object value) =>
            DateTime.UnixEpoch.AddHours((int)value).ToString("yyyy-MM-dd-HH", CultureInfo.InvariantCulture);

        private static long FloorDiv(long a, long b) => Math.DivRem(a, b, out var rem) - (rem < 0 ? 1 : 0);
    }

    private sealed record BucketTransform : Transform
    {
        public BucketTransform(int buckets)
        {
            if (buckets <= 0) throw new ArgumentOutOfRangeException(nameof(buckets));
            Buckets = buckets;
        }

        public int Buckets { get; }

        public override string Name => string.Create(CultureInfo.InvariantCulture, $"bucket[{Buckets}]");

        internal override ColumnType ResultType(ColumnType source) => source switch
        {
            ColumnType.Int or ColumnType.Long or ColumnType.String or ColumnType.TimestampTz => ColumnType.Int,
            _ => throw new NotSupportedException($"bucket[N] is not defined for {source}."),
        };

        internal override object? Apply(ColumnType source, object? canonical) =>
            canonical is null ? null : Murmur3.Bucket(Murmur3.HashValue(source, canonical), Buckets);

        internal override string HumanString(ColumnType source, object value) => ((int)value).ToString(CultureInfo.InvariantCulture);
    }
}

/// <summary>One partition field as the caller declares it, by source column name.</summary>
public sealed record PartitionFieldDefinition(string SourceColumn, Transform Transform, string? Name = null)
{
    public static PartitionFieldDefinition Identity(string column) => new(column, Transform.Identity);
    public static PartitionFieldDefinition Hour(string column) => new(column, Transform.Hour);
    public static PartitionFieldDefinition Bucket(string column, int buckets) => new(column, Transform.Bucket(buckets));
}

/// <summary>A partition spec as declared by the caller; <see cref="IcebergTable"/> binds it to the schema.</summary>
public sealed record PartitionSpec(IReadOnlyList<PartitionFieldDefinition> Fields)
{
    public static PartitionSpec Unpartitioned { get; } = new(Array.Empty<PartitionFieldDefinition>());

    public static PartitionSpec Of(params PartitionFieldDefinition[] fields) => new(fields);

    internal BoundPartitionSpec Bind(TableSchema schema, int specId = 0)
    {
        var bound = new List<BoundPartitionField>();
        var fieldId = 1000; // Iceberg starts partition field ids at 1000.
        foreach (var f in Fields)
        {
            var sourceIndex = schema.IndexOf(f.SourceColumn);
            var source = schema.Fields[sourceIndex];
            var name = f.Name ?? f.Transform switch
            {
                var t when t == Transform.Identity => source.Name,
                var t when t == Transform.Hour => source.Name + "_hour",
                _ => source.Name + "_bucket",
            };
            bound.Add(new BoundPartitionField(fieldId++, name, source.Id, sourceIndex, source.Type, f.Transform));
        }
        return new BoundPartitionSpec(specId, bound);
    }
}

internal sealed record BoundPartitionField(int FieldId, string Name, int SourceId, int SourceIndex, ColumnType SourceType, Transform Transform)
{
    public ColumnType ResultType => Transform.ResultType(SourceType);
}

internal sealed record BoundPartitionSpec(int SpecId, IReadOnlyList<BoundPartitionField> Fields)
{
    public bool IsUnpartitioned => Fields.Count == 0;

    public int LastFieldId => Fields.Count == 0 ? 999 : Fields.Max(f => f.FieldId);

    /// <summary>The partition tuple of one row of canonical values.</summary>
    public PartitionKey KeyOf(object?[] canonicalRow)
    {
        if (Fields.Count == 0) return PartitionKey.Empty;
        var values = new object?[Fields.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var f = Fields[i];
            values[i] = f.Transform.Apply(f.SourceType, canonicalRow[f.SourceIndex]);
        }
        return new PartitionKey(values);
    }

    /// <summary>Hive-style folder for a partition, e.g. <c>event_time_hour=2024-03-01-10/user_id_bucket=3</c>.</summary>
    public string PathOf(PartitionKey key)
    {
        var sb = new StringBuilder();
        for (var i = 0; i < Fields.Count; i++)
        {
            if (i > 0) sb.Append('/');
            var f = Fields[i];
            var v = key.Values[i];
            sb.Append(Uri.EscapeDataString(f.Name)).Append('=')
              .Append(v is null ? "null" : Uri.EscapeDataString(f.Transform.HumanString(f.SourceType, v)));
        }
        return sb.ToString();
    }

    public bool SameAs(BoundPartitionSpec other) =>
        Fields.Count == other.Fields.Count &&
        Fields.Zip(other.Fields).All(p => p.First.FieldId == p.Second.FieldId && p.First.SourceId == p.Second.SourceId &&
                                          p.First.Name == p.Second.Name && p.First.Transform == p.Second.Transform);
}

/// <summary>A partition tuple (transformed values in spec order) with structural equality.</summary>
public sealed class PartitionKey : IEquatable<PartitionKey>
{
    public static PartitionKey Empty { get; } = new([]);

    public PartitionKey(IReadOnlyList<object?> values) => Values = values;

    public IReadOnlyList<object?> Values { get; }

    public bool Equals(PartitionKey? other) =>
        other is not null && Values.Count == other.Values.Count && Values.SequenceEqual(other.Values);

    public override bool Equals(object? obj) => Equals(obj as PartitionKey);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var v in Values) h.Add(v);
        return h.ToHashCode();
    }

    public override string ToString() => "(" + string.Join(", ", Values.Select(v => v?.ToString() ?? "null")) + ")";
}
