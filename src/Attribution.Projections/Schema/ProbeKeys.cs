namespace Attribution.Projections.Schema;

/// <summary>Keys for a probe by <c>= ANY($1)</c>.</summary>
internal static class ProbeKeys
{
    /// <summary>
    /// The keys in ordinal order: the B-tree sorts a probe's keys before walking the index, and our ids are ASCII,
    /// whose ordinal order is the index's, so sorted keys make that sort trivial and the walk visit pages in order.
    /// </summary>
    public static string[] Sorted(IEnumerable<string> keys)
    {
        var array = keys.ToArray();
        Array.Sort(array, StringComparer.Ordinal);
        return array;
    }
}
