namespace Attribution.Api.Infrastructure;

public static class Body
{
    /// <summary>Reads the request body, or returns null as soon as it exceeds the limit. A body read once (by the
    /// signature check, which needs its exact bytes) is kept for the handler.</summary>
    public static async Task<byte[]?> ReadAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.HttpContext.Items.TryGetValue(typeof(Body), out var kept) && kept is byte[] read) return read;
        var body = await ReadOnceAsync(request, limit, ct);
        if (body is not null) request.HttpContext.Items[typeof(Body)] = body;
        return body;
    }

    private static async Task<byte[]?> ReadOnceAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return null;
        using var buffer = new MemoryStream(request.ContentLength is { } n ? (int)n : 4096);
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
