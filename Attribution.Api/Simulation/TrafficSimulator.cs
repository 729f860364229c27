using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Attribution.Domain.Events;
using Attribution.Domain.Tracking;

namespace Attribution.Api.Simulation;

public enum SendMode
{
    /// <summary>NDJSON batches to /api/v1/events.</summary>
    Batch,

    /// <summary>/pixel, /click (302, click_id from Location) and /api/v1/conversions with that click_id.</summary>
    Pixel,
}

public sealed record SimulationRun(long Sent, long Errors, TimeSpan Elapsed, IReadOnlyList<JsonObject> SentEvents);

/// <summary>
/// Sends the funnel to a running service over HTTP. With a rate, impressions are paced in real time and clicks and
/// conversions go out when they happen; without one, events go out as fast as the service takes them, in event-time
/// order, with simulated timestamps.
/// </summary>
public sealed class TrafficSimulator(HttpClient http, TrafficModel model, SendMode mode = SendMode.Batch, int batchSize = 500, int concurrency = 8)
{
    private readonly List<JsonObject> _sent = [];
    private readonly Dictionary<string, string> _clickIds = new(StringComparer.Ordinal);
    private long _sentCount;
    private long _errors;

    public Action<string>? Progress { get; init; }

    public bool KeepSentEvents { get; init; }

    /// <summary>Signs the /click URLs of pixel mode, as an ad server holding the key would; /click refuses unsigned redirects.</summary>
    public ClickSigningKeys? ClickSigningKeys { get; init; }

    /// <summary>
    /// Fills dim_users with the model's profiles (POST /api/v1/users:batch, NDJSON, under the admin key), so the
    /// audience analysis has bands for the users the traffic comes from. Returns the profiles sent.
    /// </summary>
    public async Task<long> SendProfilesAsync(string adminKey, int perBatch, CancellationToken ct)
    {
        long sent = 0;
        var body = new StringBuilder();
        var lines = 0;
        async Task FlushAsync()
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/users:batch")
            {
                Content = new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson"),
            };
            request.Headers.Add("X-Admin-Key", adminKey);
            using var response = await http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
                throw new HttpRequestException($"POST /api/v1/users:batch answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
            sent += lines;
            body.Clear();
            lines = 0;
        }

        for (var user = 0; user < model.Options.Users; user++)
        {
            if (model.ProfileOf(user) is not { } profile) continue;
            body.Append(profile.ToJsonString()).Append('\n');
            if (++lines >= perBatch) await FlushAsync();
        }

        if (lines > 0) await FlushAsync();
        return sent;
    }

    public async Task<SimulationRun> RunAsync(long? maxEvents, double? eventsPerSecond, TimeSpan? duration, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var start = DateTime.UtcNow;
        var queue = new PriorityQueue<JsonObject, DateTime>();
        var simulated = start;
        var impressionsPerSecond = eventsPerSecond / (1 + model.Options.ClickRate * (1 + model.Options.ConversionRate));
        var generated = 0L;
        var inFlight = new List<Task>();
        var batch = new List<JsonObject>(batchSize);
        var lastProgress = TimeSpan.Zero;

        bool MoreToGenerate() => (maxEvents is null || generated < maxEvents) && (duration is null || sw.Elapsed < duration) && !ct.IsCancellationRequested;

        var perRequest = mode == SendMode.Batch ? batchSize : 1;
        var lastFlush = DateTime.UtcNow;
        async Task FlushAsync()
        {
            inFlight.Add(SendAsync([.. batch], ct));
            batch.Clear();
            lastFlush = DateTime.UtcNow;
            if (inFlight.Count >= concurrency) await DrainOneAsync(inFlight);
        }

        while (MoreToGenerate() || queue.Count > 0)
        {
            var realtime = impressionsPerSecond is not null && MoreToGenerate();
            if (MoreToGenerate())
            {
                if (impressionsPerSecond is { } r)
                {
                    simulated = start.AddSeconds(generated / (1 + model.Options.ClickRate) / r);
                    var next = queue.TryPeek(out _, out var queued) && queued < simulated ? queued : simulated;
                    var wait = next - DateTime.UtcNow;
                    if (wait > TimeSpan.FromMilliseconds(2)) await Task.Delay(wait, ct);
                }
                else
                {
                    simulated = simulated.AddMilliseconds(1);
                }

                if (!realtime || simulated <= DateTime.UtcNow)
                {
                    foreach (var e in model.Funnel(EventParser.ToMicroseconds(simulated)))
                    {
                        if (maxEvents is not null && generated >= maxEvents) break;
                        queue.Enqueue(e.Payload, e.EventTime);
                        generated++;
                        if (model.Duplicate()) queue.Enqueue(e.Payload.DeepClone().AsObject(), e.EventTime);
                    }
                }
            }

            // Real time: send what has happened by now. Fast, or once generation ends: send everything queued.
            while (queue.TryPeek(out _, out var at) && (!realtime || at <= DateTime.UtcNow))
            {
                batch.Add(queue.Dequeue());
                if (batch.Count >= perRequest) await FlushAsync();
            }

            if (batch.Count > 0 && (!MoreToGenerate() || DateTime.UtcNow - lastFlush > TimeSpan.FromMilliseconds(50))) await FlushAsync();

            if (sw.Elapsed - lastProgress > TimeSpan.FromMilliseconds(500))
            {
                lastProgress = sw.Elapsed;
                Report(sw.Elapsed, queue.Count);
            }
        }

        if (batch.Count > 0) inFlight.Add(SendAsync([.. batch], ct));
        await Task.WhenAll(inFlight);
        Report(sw.Elapsed, 0);
        return new SimulationRun(_sentCount, _errors, sw.Elapsed, _sent);
    }

    private void Report(TimeSpan elapsed, int scheduled) => Progress?.Invoke(string.Create(CultureInfo.InvariantCulture,
        $"sent {Interlocked.Read(ref _sentCount):N0} events  {Interlocked.Read(ref _sentCount) / Math.Max(elapsed.TotalSeconds, 0.001):N0}/s  errors {Interlocked.Read(ref _errors):N0}  scheduled {scheduled:N0}  {elapsed:mm\\:ss}"));

    private static async Task DrainOneAsync(List<Task> inFlight)
    {
        var done = await Task.WhenAny(inFlight);
        inFlight.Remove(done);
        await done;
    }

    private async Task SendAsync(IReadOnlyList<JsonObject> events, CancellationToken ct)
    {
        try
        {
            if (mode == SendMode.Batch) await SendBatchAsync(events, ct);
            else foreach (var e in events) await SendOneAsync(e, ct);
        }
        catch (HttpRequestException)
        {
            Interlocked.Add(ref _errors, events.Count);
        }
    }

    private async Task SendBatchAsync(IReadOnlyList<JsonObject> events, CancellationToken ct)
    {
        var body = new StringBuilder();
        foreach (var e in events) body.Append(e.ToJsonString()).Append('\n');
        using var content = new StringContent(body.ToString(), Encoding.UTF8, "application/x-ndjson");
        using var response = await http.PostAsync("/api/v1/events", content, ct);
        Record(events, response.StatusCode == HttpStatusCode.Accepted);
    }

    private async Task SendOneAsync(JsonObject e, CancellationToken ct)
    {
        var type = e[EventFields.EventType]!.GetValue<string>();
        HttpResponseMessage response;
        if (type == EventTypeNames.Conversion)
        {
            // A real postback names the click id our redirect handed out.
            var payload = e.DeepClone().AsObject();
            lock (_clickIds)
            {
                if (_clickIds.TryGetValue(e[EventFields.ImpressionId]!.GetValue<string>(), out var clickId))
                {
                    payload.Remove(EventFields.ImpressionId);
                    payload[EventFields.ClickId] = clickId;
                }
            }

            using var content = new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json");
            response = await http.PostAsync("/api/v1/conversions", content, ct);
            Record([e], response.StatusCode == HttpStatusCode.Accepted);
        }
        else
        {
            // /pixel and /click take the client from the connection and the User-Agent header, never from the URL.
            var query = string.Join("&", e.Where(p => p.Key is not (EventFields.IpAddress or EventFields.UserAgent))
                .Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(Text(p.Value))}"));
            var path = type == EventTypeNames.Click ? ClickPath(query, e[EventFields.ImpressionId]!.GetValue<string>()) : $"/pixel?{query}";
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (e[EventFields.UserAgent]?.GetValue<string>() is { } agent) request.Headers.TryAddWithoutValidation("User-Agent", agent);
            if (e[EventFields.IpAddress]?.GetValue<string>() is { } ip) request.Headers.TryAddWithoutValidation("X-Forwarded-For", ip);
            response = await http.SendAsync(request, ct);
            var ok = type == EventTypeNames.Click ? response.StatusCode == HttpStatusCode.Redirect : response.IsSuccessStatusCode;
            if (ok && type == EventTypeNames.Click && response.Headers.Location is { } location)
            {
                var clickId = System.Web.HttpUtility.ParseQueryString(location.Query)["click_id"];
                if (clickId is not null)
                {
                    lock (_clickIds) _clickIds[e[EventFields.ImpressionId]!.GetValue<string>()] = clickId;
                }
            }

            Record([e], ok);
        }

        response.Dispose();
    }

    private string ClickPath(string query, string impressionId)
    {
        const string landing = "https://advertiser.example/landing";
        var sig = ClickSigningKeys is { CanSign: true } keys ? $"&sig={keys.Sign(impressionId, landing)}" : "";
        return $"/click?{query}&redirect={Uri.EscapeDataString(landing)}{sig}";
    }

    private static string Text(JsonNode? node) => node switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        null => "",
        _ => node.ToJsonString(),
    };

    private void Record(IReadOnlyList<JsonObject> events, bool ok)
    {
        if (!ok)
        {
            Interlocked.Add(ref _errors, events.Count);
            return;
        }

        Interlocked.Add(ref _sentCount, events.Count);
        if (KeepSentEvents)
        {
            lock (_sent) _sent.AddRange(events);
        }
    }
}
