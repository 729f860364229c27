namespace Attribution.Api.Infrastructure;

/// <summary>Free-text filters and ids in query strings.</summary>
public static class QueryText
{
    /// <summary>PostgreSQL text cannot hold NUL (sent, it fails the query), and no stored id holds one: a value with
    /// NUL is refused with its name, as the parser refuses such an id in an event.</summary>
    public static string? NulError(params ReadOnlySpan<(string Name, string? Value)> values)
    {
        foreach (var (name, value) in values)
        {
            if (value?.Contains('\0', StringComparison.Ordinal) == true) return $"'{name}' contains a NUL character";
        }

        return null;
    }
}
