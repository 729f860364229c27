namespace Attribution.Tests.Fixtures;

/// <summary>Waits for a condition, never for a time: polls until it holds, and fails loudly, naming what it waited
/// for and the last value it saw, when the deadline passes first.</summary>
public static class Eventually
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(60);

    public static async Task<T> ValueAsync<T>(Func<Task<T>> read, Func<T, bool> done, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting until {what}; last seen: {Describe(value)}");
            await Task.Delay(50);
        }
    }

    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        ValueAsync(condition, ok => ok, what, timeout);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        ValueAsync(() => Task.FromResult(condition()), ok => ok, what, timeout);

    private static string Describe<T>(T value) => value switch
    {
        System.Text.Json.JsonElement json => json.GetRawText() is { Length: > 2000 } raw ? raw[..2000] + "…" : json.GetRawText(),
        System.Collections.IEnumerable list and not string => $"[{string.Join(", ", list.Cast<object?>().Take(20))}]",
        _ => value?.ToString() ?? "null",
    };
}
