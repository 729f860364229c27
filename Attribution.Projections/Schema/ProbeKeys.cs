namespace Attribution.Projections.Schema;

/// <summary>Keys for a probe by <c>= ANY($1)</c>.</summary>
internal static class ProbeKeys
{
    /// <summary>
    /// The keys in ordinal order: the B-tree sorts a probe's keys before walking the index, and ordinal order is the
    /// index's (byte order under the C collation the service creates its database with; code point order, the same,
    /// under C.UTF-8), so sorted keys make that sort trivial and the walk visit pages in order.
    /// </summary>
    public static string[] Sorted(IEnumerable<string> keys)
    {
        var array = keys.ToArray();
        Array.Sort(array, StringComparer.Ordinal);
        return array;
    }
}
