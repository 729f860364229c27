namespace Attribution.Projections.Lakehouse.Iceberg;

/// <summary>
/// An append or overwrite fed one row at a time. Each row goes straight into the open data file of its partition
/// (cut at the table's row cap), so a writer never holds its rows as objects: exports stream a page of PostgreSQL
/// rows through here instead of collecting it first. Nothing is visible to readers until <see cref="Commit"/>;
/// an overwrite collects its keys and, at commit, rewrites the live files holding their older versions.
/// Disposing without committing deletes the files written so far.
/// </summary>
public sealed class TableWrite : IDisposable
{
    private readonly IcebergTable _table;
    private readonly int? _keyIndex;
    private readonly HashSet<object> _keys = [];
    private readonly Dictionary<PartitionKey, IcebergTable.NewDataFile> _open = [];
    private readonly List<DataFile> _written = [];
    private readonly IcebergTable.Attempt _attempt = new();
    private readonly object?[] _row;
    private bool _committing;
    private bool _closed;

    internal TableWrite(IcebergTable table, int? keyIndex)
    {
        _table = table;
        _keyIndex = keyIndex;
        _row = new object?[table.Schema.Fields.Count];
    }

    /// <summary>Rows added so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds one row in schema order; the caller may reuse <paramref name="row"/> as soon as this returns.</summary>
    public void Add(IReadOnlyList<object?> row)
    {
        ArgumentNullException.ThrowIfNull(row);
        ThrowIfFinished();
        var fields = _table.Schema.Fields;
        if (row.Count != fields.Count) throw new ArgumentException($"Rows need {fields.Count} values, got {row.Count}.", nameof(row));
        for (var c = 0; c < _row.Length; c++)
        {
            _row[c] = ColumnValues.Canonical(fields[c].Type, row[c]);
            if (_row[c] is null && fields[c].Required) throw new ArgumentException($"Null in required column '{fields[c].Name}'.", nameof(row));
        }

        if (_keyIndex is { } k)
        {
            var key = _row[k] ?? throw new ArgumentException($"Row with a null key in '{fields[k].Name}'.", nameof(row));
            // The older version of a key is found in the live files at commit; a second version within the same
            // write would already sit in a new file, beside the first.
            if (!_keys.Add(key)) throw new ArgumentException($"Key '{key}' is added twice to one overwrite.", nameof(row));
        }

        var partition = _table.Spec.KeyOf(_row);
        if (!_open.TryGetValue(partition, out var file)) _open[partition] = file = new IcebergTable.NewDataFile(_table, partition, _attempt);
        file.Writer.AppendCanonicalRow(_row);
        Rows++;
        if (file.Writer.Rows < _table.MaxRowsPerFile) return;
        _written.Add(file.Finish());
        file.Dispose();
        _open.Remove(partition);
    }

    /// <summary>
    /// Commits one snapshot holding the rows added ("append" or "overwrite"). Null when no row was added.
    /// <paramref name="summaryProperties"/> go into the snapshot summary beside the standard keys (which they cannot
    /// replace), so a writer can record what the snapshot holds, e.g. the source range an export covered.
    /// </summary>
    public CommitResult? Commit(IReadOnlyDictionary<string, string>? summaryProperties = null)
    {
        ThrowIfFinished();
        foreach (var file in _open.Values)
        {
            _written.Add(file.Finish());
            file.Dispose();
        }

        _open.Clear();
        // From here on the files belong to the commit: a failure after the metadata rename must not delete them, and
        // one before it leaves orphans for RemoveOrphanFiles (a lost race deletes its own, in the commit).
        _committing = true;
        return Rows == 0 ? null : _table.CommitWrite(_keyIndex, _keys, _written, _attempt, summaryProperties);
    }

    private void ThrowIfFinished()
    {
        if (_committing) throw new InvalidOperationException("This write has been committed; begin another one.");
        ObjectDisposedException.ThrowIf(_closed, this);
    }

    public void Dispose()
    {
        if (_closed) return;
        _closed = true;
        foreach (var file in _open.Values) file.Dispose();
        _open.Clear();
        if (!_committing) _attempt.Abandon();
    }
}
