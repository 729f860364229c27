using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Attribution.Tests.Fixtures;

/// <summary>
/// Sustained tracking traffic against a service that may be killed and restarted underneath it: NDJSON batches of
/// impressions with some of their clicks and conversions, and single pixels, sent on a fixed cadence. It remembers
/// every event it sent and every one the service acknowledged with a 2xx, which is what a test then holds the
/// service to. A request that fails (the service is down, or died mid-request) is not acknowledged, and its events
/// may or may not have been stored.
/// </summary>
internal sealed class TrackingLoad : IAsyncDisposable
{
    private static readonly DateTime Origin = new(2026, 11, 1, 12, 0, 0, DateTimeKind.Utc);
    private readonly ConcurrentDictionary<string, bool> _acknowledged = new();
    private readonly ConcurrentDictionary<string, bool> _sent = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<HttpClient?> _client;
    private readonly string _prefix;
    private readonly Task _running;
    private int _unexpected;
    private string? _lastUnexpected;

    /// <param name="client">The service's client now, or null while it is down.</param>
    /// <param name="prefix">Makes this load's ids its own.</param>
    /// <param name="batchEvents">Impressions per batch (each with ~10 % clicks, ~3 % conversions).</param>
    /// <param name="interval">Pause between sends of each of the two senders.</param>
    public TrackingLoad(Func<HttpClient?> client, string prefix, int batchEvents = 100, TimeSpan? interval = null)
    {
        _client = client;
        _prefix = prefix;
        var pause = interval ?? TimeSpan.FromMilliseconds(50);
        _running = Task.WhenAll(
            Task.Run(() => SendBatchesAsync(batchEvents, pause)),
            Task.Run(() => SendPixelsAsync(pause)));
    }

    /// <summary>Event ids the service answered 2xx for.</summary>
    public IReadOnlyCollection<string> Acknowledged => _acknowledged.Keys.ToList();

    /// <summary>Every event id sent, acknowledged or not.</summary>
    public IReadOnlySet<string> Sent => _sent.Keys.ToHashSet();

    /// <summary>Answers that are neither a 2xx nor a failure to reach the service (a 4xx or 5xx), with the last one.</summary>
    public (int Count, string? Last) Unexpected => (_unexpected, _lastUnexpected);

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await _running;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested) await StopAsync();
        _stop.Dispose();
    }

    private async Task SendBatchesAsync(int batchEvents, TimeSpan pause)
    {
        for (var batch = 0; !_stop.IsCancellationRequested; batch++)
        {
            var lines = new List<(string EventId, string Json)>();
            for (var i = 0; i < batchEvents; i++)
            {
                var impression = $"{_prefix}-b{batch}-{i}";
                var at = Seconds(batch * 0.05 + i * 0.0001);
                lines.Add(($"{impression}-imp", $$"""{"event_id":"{{impression}}-imp","event_type":"IMPRESSION","event_timestamp":{{at}},"impression_id":"{{impression}}","campaign_id":"c{{i % 5}}","user_id":"u{{i % 97}}","geo_country":"US","platform":"IOS","bid_price":0.25}"""));
                if (i % 10 == 0)
                    lines.Add(($"{impression}-clk", $$"""{"event_id":"{{impression}}-clk","event_type":"CLICK","event_timestamp":{{Seconds(batch * 0.05 + i * 0.0001 + 2)}},"impression_id":"{{impression}}"}"""));
                if (i % 30 == 0)
                    lines.Add(($"{impression}-cnv", $$"""{"event_id":"{{impression}}-cnv","event_type":"CONVERSION","event_timestamp":{{Seconds(batch * 0.05 + i * 0.0001 + 60)}},"impression_id":"{{impression}}","conversion_value":12.5}"""));
            }

            var ids = lines.Select(l => l.EventId).ToList();
            await SendAsync(ids, client => client.PostAsync(new Uri("/api/v1/events", UriKind.Relative),
                new StringContent(string.Join('\n', lines.Select(l => l.Json)), Encoding.UTF8, "application/x-ndjson"), _stop.Token));
            await Pause(pause);
        }
    }

    private async Task SendPixelsAsync(TimeSpan pause)
    {
        for (var n = 0; !_stop.IsCancellationRequested; n++)
        {
            var id = $"{_prefix}-p{n}";
            var uri = new Uri($"/pixel?impression_id={id}&event_id={id}-imp&event_timestamp={Seconds(n * 0.01 + 0.5)}&campaign_id=c9&bid_price=0.4", UriKind.Relative);
            await SendAsync([$"{id}-imp"], client => client.GetAsync(uri, _stop.Token));
            await Pause(pause);
        }
    }

    private async Task SendAsync(List<string> ids, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        if (_client() is not { } client)
        {
            // Down: the events are not sent, so they are neither here nor there.
            return;
        }

        foreach (var id in ids) _sent[id] = true;
        try
        {
            using var response = await send(client);
            if (response.IsSuccessStatusCode)
            {
                foreach (var id in ids) _acknowledged[id] = true;
            }
            else
            {
                Interlocked.Increment(ref _unexpected);
                _lastUnexpected = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
        {
            // The service died under the request, or is restarting: not acknowledged.
        }
    }

    private async Task Pause(TimeSpan pause)
    {
        try
        {
            await Task.Delay(pause, _stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private static string Seconds(double offset) =>
        ((Origin - DateTime.UnixEpoch).TotalSeconds + offset).ToString("0.0###", CultureInfo.InvariantCulture);}
