namespace Attribution.Projections.Lakehouse;

/// <summary>The column types the lakehouse writes. Each maps to one Iceberg primitive and one Parquet physical type.</summary>
public enum ColumnType
{
    Boolean,
    Int,
    Long,
    Double,
    String,
    /// <summary>Microseconds since the Unix epoch, UTC (Iceberg <c>timestamptz</c>).</summary>
    TimestampTz,
}

/// <summary>One flat column. <paramref name="Id"/> is the Iceberg field id, also written as the Parquet field_id.</summary>
public sealed record SchemaField(int Id, string Name, ColumnType Type, bool Required = false);

/// <summary>
/// A flat table schema. Rows handed to the writers are <c>object?[]</c> in the order of <see cref="Fields"/>.
/// </summary>
public sealed class TableSchema
{
    private readonly Dictionary<string, int> _byName;

    public TableSchema(IEnumerable<SchemaField> fields, int schemaId = 0)
    {
        ArgumentNullException.ThrowIfNull(fields);
        Fields = fields.ToArray();
        SchemaId = schemaId;
        if (Fields.Count == 0) throw new ArgumentException("A schema needs at least one field.", nameof(fields));
        _byName = new Dictionary<string, int>(StringComparer.Ordinal);
        var ids = new HashSet<int>();
        for (var i = 0; i < Fields.Count; i++)
        {
            var f = Fields[i];
            // Iceberg reserves ids above Integer.MAX_VALUE - 200 for metadata columns.
            if (f.Id <= 0 || f.Id > int.MaxValue - 200) throw new ArgumentException($"Field id {f.Id} of '{f.Name}' is out of range.", nameof(fields));
            if (string.IsNullOrWhiteSpace(f.Name)) throw new ArgumentException("Field names must not be empty.", nameof(fields));
            if (!ids.Add(f.Id)) throw new ArgumentException($"Duplicate field id {f.Id}.", nameof(fields));
            if (!_byName.TryAdd(f.Name, i)) throw new ArgumentException($"Duplicate field name '{f.Name}'.", nameof(fields));
        }
    }

    public TableSchema(params SchemaField[] fields) : this((IEnumerable<SchemaField>)fields) { }

    public IReadOnlyList<SchemaField> Fields { get; }

    public int SchemaId { get; }

    public int LastColumnId => Fields.Max(f => f.Id);

    public int IndexOf(string name) =>
        _byName.TryGetValue(name, out var i) ? i : throw new ArgumentException($"Unknown column '{name}'.", nameof(name));

    public int IndexOfId(int fieldId)
    {
        for (var i = 0; i < Fields.Count; i++)
            if (Fields[i].Id == fieldId) return i;
        throw new ArgumentException($"Unknown field id {fieldId}.", nameof(fieldId));
    }

    /// <summary>Same ids, names, types and nullability, in the same order.</summary>
    /// <summary>Whether this schema is <paramref name="current"/> with optional columns appended, each with a field id
    /// above <paramref name="lastColumnId"/> (Iceberg never reuses an id).</summary>
    public bool Appends(TableSchema current, int lastColumnId)
    {
        ArgumentNullException.ThrowIfNull(current);
        return Fields.Count > current.Fields.Count
            && Fields.Take(current.Fields.Count).SequenceEqual(current.Fields)
            && Fields.Skip(current.Fields.Count).All(f => !f.Required && f.Id > lastColumnId);
    }

    public bool SameColumnsAs(TableSchema other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Fields.SequenceEqual(other.Fields);
    }
}
