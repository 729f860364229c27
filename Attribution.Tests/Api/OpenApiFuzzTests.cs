using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>Thousands of bad requests generated from the service's own OpenAPI document, for every operation in it:
/// the answer is a 4xx ProblemDetails (or, where the request turns out valid, a 2xx), never a 5xx, and the service
/// keeps serving and applying events afterwards. Every invalid event of a batch gets its INVALID audit row.</summary>
public sealed class OpenApiFuzzTests(OpenApiFuzzTests.FuzzApi api) : IClassFixture<OpenApiFuzzTests.FuzzApi>
{
    /// <summary>A small body limit makes oversized bodies cheap to send; the endpoints enforce whatever it is.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private const int MinimumRequests = 2_000;

    private readonly HttpClient _http = api.Client();

    // The fuzzer tests what the handlers answer, not the limiter (RequestLimitsTests does): thousands of bad requests
    // from one address would otherwise end in 429s before the handlers see most of them.
    public sealed class FuzzApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Tracking:MaxBodyBytes"] = MaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RateLimits:QueryPerMinute"] = "100000000",
        ["RateLimits:AuthFailuresPerMinute"] = "100000000",
    });

    [Fact]
    public Task Every_operation_of_the_openapi_document_answers_thousands_of_bad_requests_with_4xx_problem_details_and_the_service_keeps_serving() =>
        Seeded.RunAsync(async seed =>
        {
            var document = await _http.GetFromJsonAsync<JsonElement>("/swagger/v1/swagger.json");
            var operations = Operations(document);
            var requests = new Generator(new Random(seed), document).Generate(operations);

            var failures = new ConcurrentBag<string>();
            var clock = Stopwatch.StartNew();
            // A few at a time, as clients would send them; the order is the seed's.
            await Parallel.ForEachAsync(requests, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (request, ct) =>
            {
                if (await CheckAsync(request, ct) is { } failure) failures.Add(failure);
            });
            clock.Stop();

            // The generator covered what it promises: every operation, every category, enough requests.
            Assert.True(requests.Count >= MinimumRequests, $"only {requests.Count} requests generated");
            var perOperation = requests.GroupBy(r => r.Operation).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            Assert.All(operations, op => Assert.True(perOperation.GetValueOrDefault(op.Id) >= 20, $"{op.Id}: {perOperation.GetValueOrDefault(op.Id)} requests"));
            var categories = requests.Select(r => r.Category).ToHashSet(StringComparer.Ordinal);
            Assert.Empty(Categories.All.Except(categories));
            Assert.True(failures.IsEmpty,
                $"{failures.Count} of {requests.Count} bad requests ({operations.Count} operations, {clock.Elapsed.TotalSeconds:0.0} s) were not answered " +
                $"with a 4xx ProblemDetails (or a 2xx where the request is valid):{Environment.NewLine}" +
                string.Join(Environment.NewLine, failures.Order(StringComparer.Ordinal).Take(60)));

            await TheServiceStillServesAsync();
        });

    [Fact]
    public Task Every_invalid_event_of_a_batch_gets_exactly_one_invalid_audit_row_and_the_valid_ones_are_applied() =>
        Seeded.RunAsync(async seed =>
        {
            var random = new Random(seed);
            var ndjson = BatchLines(random, "nd", withUnparseable: true);
            var array = BatchLines(random, "ar", withUnparseable: false);

            var ndBody = Encoding.UTF8.GetBytes(string.Join("\n", ndjson.Select(l => l.Text)) + "\n");
            // One line carries bytes that are not UTF-8 at all, as a broken client would send them.
            ndBody = ReplaceMarker(ndBody, InvalidUtf8Marker, [0xFF, 0xFE]);
            var arBody = Encoding.UTF8.GetBytes("[" + string.Join(",\n", array.Select(l => l.Text)) + "]");

            var allLines = new List<BatchLine>();
            foreach (var (lines, body, type) in new[] { (ndjson, ndBody, "application/x-ndjson"), (array, arBody, "application/json") })
            {
                using var content = new ByteArrayContent(body);
                content.Headers.TryAddWithoutValidation("Content-Type", type);
                var r = await _http.PostAsync("/api/v1/events", content);
                Assert.Equal(HttpStatusCode.Accepted, r.StatusCode);
                var result = await r.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(lines.Count(l => l.Valid), result.GetProperty("accepted").GetInt32());
                Assert.Equal(
                    lines.Select((l, i) => (l, i)).Where(x => !x.l.Valid).Select(x => x.i),
                    result.GetProperty("rejected").EnumerateArray().Select(x => x.GetProperty("index").GetInt32()));
                allLines.AddRange(lines);
            }

            var invalid = allLines.Where(l => !l.Valid).ToList();
            var valid = allLines.Where(l => l.Valid).ToList();
            await Eventually.ValueAsync(async () =>
            {
                var rows = await InvalidAuditRowsAsync();
                var missing = invalid.Where(l => !rows.Any(p => p.Contains(l.Token, StringComparison.Ordinal))).Select(l => l.Kind).ToList();
                return (Missing: missing, Applied: await Db.CountAsync(api.DataSource, "SELECT count(*) FROM events WHERE stream_id LIKE 'batch-%'"));
            }, seen => seen.Missing.Count == 0 && seen.Applied >= valid.Count,
                $"{invalid.Count} invalid events audited INVALID and {valid.Count} valid ones applied (seen: the kinds not audited yet, and the events applied)");
            // Everything Kafka holds is applied: a late duplicate INVALID row would be here by now.
            await api.WaitForDrainAsync(0);

            var audited = await InvalidAuditRowsAsync();
            var counts = allLines.ToDictionary(l => l.Token, l => audited.Count(p => p.Contains(l.Token, StringComparison.Ordinal)), StringComparer.Ordinal);
            Assert.All(invalid, l => Assert.True(counts[l.Token] == 1, $"{counts[l.Token]} INVALID rows for [{l.Kind}] {l.Text}"));
            Assert.All(valid, l => Assert.True(counts[l.Token] == 0, $"{counts[l.Token]} INVALID rows for the valid {l.Text}"));
            Assert.Equal(valid.Count, await Db.CountAsync(api.DataSource, "SELECT count(*) FROM events WHERE stream_id LIKE 'batch-%'"));
        });

    // ---------------------------------------------------------------------------------------------------------
    // The answer to one request

    private async Task<string?> CheckAsync(FuzzRequest request, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(request.Method, request.Target);
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            if (request.ContentType is not null) message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }

        if (request.Key is { } key) message.Headers.TryAddWithoutValidation("X-Admin-Key", key);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(message, ct);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or IOException)
        {
            // In-process, an exception the server did not turn into an answer surfaces here.
            return Describe(request, 0, $"no answer: {e.GetType().Name}: {e.Message}");
        }

        using (response)
        {
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(ct);
            if (status >= 500) return Describe(request, status, text);
            if (status < 400 && !request.MayPass) return Describe(request, status, "a success for a request that is not valid: " + text);
            if (status < 400 && request.Rejects is { } index &&
                !JsonDocument.Parse(text).RootElement.GetProperty("rejected").EnumerateArray().Any(r => r.GetProperty("index").GetInt32() == index))
                return Describe(request, status, $"the batch's broken event {index} is not reported as rejected: {text}");
            if (status < 400) return null;
            if (response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                return Describe(request, status, $"not ProblemDetails ({response.Content.Headers.ContentType?.MediaType ?? "no content type"}): {text}");
            try
            {
                var problem = JsonDocument.Parse(text).RootElement;
                if (!problem.TryGetProperty("status", out var s) || s.ValueKind != JsonValueKind.Number || s.GetInt32() != status)
                    return Describe(request, status, "ProblemDetails without its status: " + text);
                if (!problem.TryGetProperty("title", out var title) || string.IsNullOrWhiteSpace(title.GetString()))
                    return Describe(request, status, "ProblemDetails without a title: " + text);
            }
            catch (JsonException)
            {
                return Describe(request, status, "ProblemDetails that is not JSON: " + text);
            }

            return null;
        }
    }

    private static string Describe(FuzzRequest r, int status, string answer) =>
        $"{status} {r.Method} {Shorten(r.Target, 160)} [{r.Category}{(r.Key is null ? "" : ", key")}] {r.ContentType ?? "no content type"}: " +
        $"{(r.Body is null ? "-" : Shorten(Encoding.UTF8.GetString(r.Body), 120))} → {Shorten(answer, 400)}";

    private static string Shorten(string s, int max) =>
        (s.Length <= max ? s : s[..max] + $"…({s.Length})").Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);

    private async Task TheServiceStillServesAsync()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/live")).StatusCode);
        var pixel = await _http.GetAsync("/pixel?impression_id=after-fuzz-1&campaign_id=c-after&bid_price=0.5");
        Assert.Equal(HttpStatusCode.OK, pixel.StatusCode);
        using var batch = new StringContent("{\"event_id\":\"after-fuzz-click\",\"event_type\":\"CLICK\",\"impression_id\":\"after-fuzz-1\"}\n",
            Encoding.UTF8, "application/x-ndjson");
        Assert.Equal(HttpStatusCode.Accepted, (await _http.PostAsync("/api/v1/events", batch)).StatusCode);
        // The pipeline is not wedged by anything the fuzzer sent: events sent after it are applied.
        await Eventually.TrueAsync(async () =>
        {
            var r = await _http.GetAsync("/api/v1/impressions/after-fuzz-1");
            return r.StatusCode == HttpStatusCode.OK && (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("is_clicked").GetBoolean();
        }, "the impression and click sent after the fuzzing are applied");
    }

    // ---------------------------------------------------------------------------------------------------------
    // The batch of mixed valid and invalid events

    private const string InvalidUtf8Marker = "@@NOT-UTF8@@";

    private sealed record BatchLine(string Token, string Kind, string Text, bool Valid);

    private static List<BatchLine> BatchLines(Random random, string batch, bool withUnparseable)
    {
        var lines = new List<BatchLine>();
        var n = 0;
        string Next() => $"batch-{batch}-{n++:D3}x";
        for (var i = 0; i < 12; i++)
        {
            var t = Next();
            lines.Add(new(t, "valid", $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"campaign_id\":\"c-batch\",\"bid_price\":0.25}}", true));
        }

        var invalid = new List<(string Kind, Func<string, string> Line)>
        {
            ("not an object: string", t => $"\"{t}\""),
            ("not an object: array", t => $"[\"{t}\", 1]"),
            ("unknown event_type", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"VIEW\",\"impression_id\":\"{t}\"}}"),
            ("wrong type", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"CLICK\",\"impression_id\":[\"{t}\"]}}"),
            ("huge number", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"bid_price\":1e400}}"),
            ("negative number", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"bid_price\":-5}}"),
            ("not a time", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"event_timestamp\":\"soon\"}}"),
            ("time out of range", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"event_timestamp\":-1}}"),
            ("control character", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"\\u0000{t}\"}}"),
            ("very long string", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}{new string('x', 300)}\"}}"),
            ("missing impression_id", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\"}}"),
            ("conversion without impression or click", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"CONVERSION\",\"conversion_value\":3}}"),
            ("sql in event_type", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION'; DROP TABLE audit_log;--\",\"impression_id\":\"{t}\"}}"),
        };
        if (withUnparseable)
        {
            invalid.Add(("malformed JSON", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\","));
            invalid.Add(("malformed JSON", t => $"{{'event_id':'{t}'}}"));
            // Valid but for its bytes: the line is refused for them alone.
            invalid.Add(("invalid UTF-8", t => $"{{\"event_id\":\"{t}\",\"event_type\":\"IMPRESSION\",\"impression_id\":\"{t}\",\"campaign_id\":\"{InvalidUtf8Marker}\"}}"));
        }

        foreach (var (kind, line) in invalid)
        {
            var t = Next();
            lines.Add(new(t, kind, line(t), false));
        }

        return lines.OrderBy(_ => random.Next()).ToList();
    }

    private async Task<List<string>> InvalidAuditRowsAsync()
    {
        await using var cmd = api.DataSource.CreateCommand("SELECT raw_payload FROM audit_log WHERE reason = 'INVALID' AND raw_payload LIKE '%batch-%'");
        var rows = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync();
        while (await reader.ReadAsync()) rows.Add(reader.IsDBNull(0) ? "" : reader.GetString(0));
        return rows;
    }

    private static byte[] ReplaceMarker(byte[] body, string marker, byte[] with)
    {
        var m = Encoding.UTF8.GetBytes(marker);
        var at = body.AsSpan().IndexOf(m);
        Assert.True(at >= 0, "marker present");
        return [.. body.AsSpan(0, at), .. with, .. body.AsSpan(at + m.Length)];
    }

    // ---------------------------------------------------------------------------------------------------------
    // The OpenAPI document

    private sealed record Parameter(string Name, string In, string? Type, string? Format);

    private sealed record Operation(string Id, HttpMethod Method, string Path, IReadOnlyList<Parameter> Parameters,
        IReadOnlyList<(string ContentType, JsonElement Schema)> Bodies, bool Admin);

    private static List<Operation> Operations(JsonElement document)
    {
        var operations = new List<Operation>();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var op in path.Value.EnumerateObject())
            {
                var parameters = op.Value.TryGetProperty("parameters", out var ps)
                    ? ps.EnumerateArray().Select(p => new Parameter(p.GetProperty("name").GetString()!, p.GetProperty("in").GetString()!,
                        p.GetProperty("schema").TryGetProperty("type", out var t) ? t.GetString() : null,
                        p.GetProperty("schema").TryGetProperty("format", out var f) ? f.GetString() : null)).ToList()
                    : [];
                var bodies = op.Value.TryGetProperty("requestBody", out var rb)
                    ? rb.GetProperty("content").EnumerateObject().Select(c => (c.Name, c.Value.GetProperty("schema"))).ToList()
                    : [];
                // The document says which changes need the admin key in each summary.
                var admin = op.Value.TryGetProperty("summary", out var s) && s.GetString()!.Contains("X-Admin-Key", StringComparison.Ordinal);
                operations.Add(new Operation($"{op.Name.ToUpperInvariant()} {path.Name}", new HttpMethod(op.Name.ToUpperInvariant()), path.Name,
                    parameters, bodies, admin));
            }
        }

        Assert.True(operations.Count >= 25, $"the document lists only {operations.Count} operations");
        return operations;
    }

    // ---------------------------------------------------------------------------------------------------------
    // The generator

    /// <param name="Rejects">For a batch: the index of the broken event, which a 202 must report as rejected.</param>
    private sealed record FuzzRequest(string Operation, string Category, HttpMethod Method, string Target, byte[]? Body, string? ContentType,
        string? Key, bool MayPass, int? Rejects = null);

    private static class Categories
    {
        public const string MalformedJson = "malformed JSON";
        public const string MalformedNdjson = "malformed NDJSON";
        public const string WrongRootType = "wrong root type";
        public const string WrongType = "wrong type";
        public const string HugeNumber = "huge number";
        public const string NegativeNumber = "negative number";
        public const string InvalidUtf8 = "invalid UTF-8";
        public const string ControlCharacters = "control characters";
        public const string LongString = "very long string";
        public const string Oversized = "oversized body";
        public const string UnknownField = "unknown field";
        public const string Injection = "SQL and path fragments";
        public const string WrongContentType = "wrong content type";
        public const string WrongMethod = "wrong method";
        public const string NoAdminKey = "no admin key";
        public const string WrongAdminKey = "wrong admin key";
        public const string Edge = "edge value";

        public static readonly string[] All =
        [
            MalformedJson, MalformedNdjson, WrongRootType, WrongType, HugeNumber, NegativeNumber, InvalidUtf8, ControlCharacters,
            LongString, Oversized, UnknownField, Injection, WrongContentType, WrongMethod, NoAdminKey, WrongAdminKey, Edge,
        ];
    }

    /// <summary>A value for a query or path parameter: its text (already percent-encoded when Raw), its category,
    /// and whether some parameter could rightly accept it.</summary>
    private sealed record BadValue(string Text, string Category, bool Raw = false);

    /// <summary>The fields of a tracking event: /api/v1/events takes any JSON (its document schema is empty), and
    /// /pixel and /click read their query without declaring it (the fields are in their descriptions).</summary>
    private static readonly Dictionary<string, string> EventFields = new(StringComparer.Ordinal)
    {
        ["event_id"] = "string", ["event_type"] = "string", ["impression_id"] = "string", ["campaign_id"] = "string",
        ["creative_id"] = "string", ["user_id"] = "string", ["geo_country"] = "string", ["platform"] = "string",
        ["bid_price"] = "number", ["click_id"] = "string", ["conversion_value"] = "number", ["event_timestamp"] = "number",
    };

    /// <summary>Parameters whose every value is a valid filter or id (a value nothing matches finds nothing).</summary>
    private static readonly HashSet<string> FreeText = new(StringComparer.Ordinal)
    {
        "campaign_id", "creative_id", "geo_country", "platform", "event_id", "impression_id", "user_id", "campaignId", "impressionId",
    };

    private sealed class Generator(Random random, JsonElement document)
    {
        private readonly List<FuzzRequest> _requests = [];
        private int _ids;

        public List<FuzzRequest> Generate(List<Operation> operations)
        {
            foreach (var op in operations)
            {
                foreach (var p in op.Parameters.Where(p => p.In == "path")) PathParameter(op, p);
                foreach (var p in QueryParameters(op)) QueryParameter(op, p);
                foreach (var (contentType, schema) in op.Bodies) Bodies(op, contentType, schema);
                UnknownQuery(op);
                WrongMethods(op, operations);
            }

            return _requests.OrderBy(_ => random.Next()).ToList();
        }

        // ----- values

        private string LongText(int min) => new((char)('a' + random.Next(26)), min + random.Next(1000));

        /// <summary>Values no typed parameter accepts, and edge values some do.</summary>
        private List<BadValue> Values() =>
        [
            new("abc", Categories.WrongType), new("true", Categories.WrongType), new("[]", Categories.WrongType), new("{\"a\":1}", Categories.WrongType),
            new("1.5.2", Categories.WrongType), new("0x1F", Categories.WrongType), new("1,2", Categories.WrongType),
            new("99999999999999999999999999999", Categories.HugeNumber), new("2147483648", Categories.HugeNumber), new("1e400", Categories.HugeNumber),
            new("9223372036854775808", Categories.HugeNumber), new("Infinity", Categories.HugeNumber), new("NaN", Categories.HugeNumber),
            new("-1", Categories.NegativeNumber), new("-2147483649", Categories.NegativeNumber), new("-1e400", Categories.NegativeNumber),
            new("-0.000001", Categories.NegativeNumber), new($"-{random.Next(2, int.MaxValue)}", Categories.NegativeNumber),
            new("%FF%FE", Categories.InvalidUtf8, Raw: true), new("%C0%AF", Categories.InvalidUtf8, Raw: true),
            new("%ED%A0%80", Categories.InvalidUtf8, Raw: true), new("a%E2%82", Categories.InvalidUtf8, Raw: true),
            new("\0", Categories.ControlCharacters), new("a\u0001b\u001fc", Categories.ControlCharacters), new("\u007f\r\n\t", Categories.ControlCharacters),
            new("\u202e\ufeff\u2028", Categories.ControlCharacters),
            new(LongText(5_000), Categories.LongString), new(LongText(60_000), Categories.LongString),
            new("' OR '1'='1", Categories.Injection), new("1; DROP TABLE audit_log;--", Categories.Injection),
            new("\") UNION SELECT * FROM pg_user--", Categories.Injection), new("../../../etc/passwd", Categories.Injection),
            new("..\\..\\windows\\win.ini", Categories.Injection), new("%2e%2e%2f%2e%2e%2fetc", Categories.Injection, Raw: true),
            new("%00.json", Categories.Injection, Raw: true), new("$(id)`id`${7*7}", Categories.Injection),
            new("0", Categories.Edge), new("1", Categories.Edge), new("0001-01-01", Categories.Edge), new("9999-12-31T23:59:59.9999999Z", Categories.Edge),
            new("253402300799", Categories.Edge), new("-0", Categories.Edge), new(" ", Categories.Edge), new("", Categories.Edge),
            new("2026-02-30", Categories.Edge), new("9999-12-31", Categories.Edge), new("\U0001F600", Categories.Edge),
        ];

        private static string Encode(BadValue v) => v.Raw ? v.Text : Uri.EscapeDataString(v.Text);

        /// <summary>Whether a value could be valid for a parameter: any value for a free-text id or filter; a blank
        /// one (absent, so the default); a time for from/to; a small positive integer for a count.</summary>
        private static bool MayAccept(string name, BadValue v)
        {
            if (FreeText.Contains(name)) return true;
            // Broken UTF-8 or an encoded fragment is never a typed value; a blank one is absent, so the default.
            if (v.Raw) return false;
            if (string.IsNullOrWhiteSpace(v.Text)) return true;
            var invariant = System.Globalization.CultureInfo.InvariantCulture;
            var number = decimal.TryParse(v.Text, System.Globalization.NumberStyles.Float, invariant, out var n);
            // Times are ISO-8601 (read leniently, as DateTime.TryParse does) or Unix epoch seconds before year 10000.
            if (name is "from" or "to" or "event_timestamp")
                return number ? n is > 0 and < 253402300800m : DateTime.TryParse(v.Text, invariant, System.Globalization.DateTimeStyles.AdjustToUniversal, out _);
            if (name is "limit" or "max_steps" or "runs") return int.TryParse(v.Text, invariant, out var count) && count is >= 1 and <= 1000;
            if (name is "half_life_hours") return double.TryParse(v.Text, invariant, out var hours) && hours is > 0 and <= 8760;
            if (name is "threshold") return double.TryParse(v.Text, invariant, out var z) && z is > 0 and <= 100;
            if (name is "bid_price") return number && n is >= 0 and < 1_000_000_000_000m;
            // /click's redirect must be a clean absolute http(s) URL (and its sig the one for it), the rest are closed lists.
            return false;
        }

        // ----- path parameters

        private void PathParameter(Operation op, Parameter p)
        {
            // Kestrel refuses a path with a NUL before the application sees it (and the in-process TestServer
            // throws on the client instead): NUL goes into queries and bodies only.
            foreach (var v in Values().Where(v => !v.Text.Contains('\0', StringComparison.Ordinal) && !v.Text.Contains("%00", StringComparison.Ordinal)))
            {
                // An empty segment or an unescaped fragment may route to another operation, or to none; an id
                // may be one the fuzzer itself created through another operation.
                var mayPass = v.Text.Length == 0 || v.Raw || MayAccept(p.Name, v);
                var target = Fill(op, p.Name, Encode(v)) + BaseQuery(op, except: null);
                Add(op, v.Category, target, op.Bodies.Count > 0 ? ValidBody(op) : null, mayPass);
            }

            // Fragments left unescaped: "../" and "?" take the request elsewhere; it must still be answered.
            foreach (var raw in new[] { "../../../../etc/passwd", "a/b/c", "x?y=1", "x#frag", "%", "%zz", ".", "..", "~root" })
                Add(op, Categories.Injection, Fill(op, p.Name, raw), op.Bodies.Count > 0 ? ValidBody(op) : null, mayPass: true);
        }

        private string Fill(Operation op, string name, string value)
        {
            var path = op.Path;
            foreach (var p in op.Parameters.Where(p => p.In == "path"))
                path = path.Replace("{" + p.Name + "}", p.Name == name ? value : ValidPathValue(p), StringComparison.Ordinal);
            return path;
        }

        private string ValidPathValue(Parameter p) => p.Name switch
        {
            "id" => "1",
            "table" => "bronze.ad_events",
            "job" => "export",
            _ => $"fz-{p.Name}-{_ids++}",
        };

        // ----- query parameters

        private static IEnumerable<Parameter> QueryParameters(Operation op)
        {
            var declared = op.Parameters.Where(p => p.In == "query").ToList();
            if (declared.Count > 0 || op.Method != HttpMethod.Get || op.Path is not ("/pixel" or "/click")) return declared;
            var fields = EventFields.Keys.Where(k => k is not ("event_type" or "click_id" or "conversion_value")).ToList();
            // A click carries no cost: its bid_price would be just another field of the raw payload.
            if (op.Path == "/click") fields = [.. fields.Where(f => f != "bid_price"), "redirect", "sig"];
            return fields.Select(f => new Parameter(f, "query", EventFields.GetValueOrDefault(f, "string"), null));
        }

        private void QueryParameter(Operation op, Parameter p)
        {
            foreach (var v in Values())
            {
                var query = BaseQuery(op, except: p.Name);
                var target = Fill(op, "", "") + query + (query.Length == 0 ? "?" : "&") + $"{p.Name}={Encode(v)}";
                Add(op, v.Category, target, op.Bodies.Count > 0 ? ValidBody(op) : null, MayAccept(p.Name, v) || v.Text.Contains(',', StringComparison.Ordinal));
            }

            // The same parameter twice: a typed one cannot take both.
            var twice = Fill(op, "", "") + BaseQuery(op, except: p.Name);
            twice += (twice.Contains('?', StringComparison.Ordinal) ? "&" : "?") + $"{p.Name}=1&{p.Name}=2";
            Add(op, Categories.WrongType, twice, op.Bodies.Count > 0 ? ValidBody(op) : null, mayPass: true);
        }

        /// <summary>The query of a valid request of the operation, so that the one value fuzzed is what is wrong.</summary>
        private string BaseQuery(Operation op, string? except)
        {
            var names = QueryParameters(op).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            var values = new List<string>();
            void Set(string name, string value)
            {
                if (names.Contains(name) && name != except) values.Add($"{name}={Uri.EscapeDataString(value)}");
            }

            Set("from", "2026-11-01");
            Set("to", "2026-11-08");
            Set("model", "linear");
            var impression = $"fz-imp-{_ids++}";
            const string redirect = "https://shop.example/p";
            Set("impression_id", impression);
            Set("redirect", redirect);
            // /click follows only a signed redirect: signed here unless the impression or the redirect is what is fuzzed.
            if (except is not ("impression_id" or "redirect"))
                Set("sig", Attribution.Domain.Tracking.ClickSigningKeys.Compute(ApiFactory.ClickSigningKey, impression, redirect));
            return values.Count == 0 ? "" : "?" + string.Join("&", values);
        }

        private void UnknownQuery(Operation op)
        {
            var path = Fill(op, "", "");
            var query = BaseQuery(op, except: null);
            var sep = query.Length == 0 ? "?" : query + "&";
            foreach (var extra in new[] { "zz_unknown=1", "__proto__=x", "a[b]=c", $"{LongText(2_000)}=1", "%FF=%FE", "=novalue", "novalue", "&&&" })
                Add(op, Categories.UnknownField, path + sep + extra, op.Bodies.Count > 0 ? ValidBody(op) : null, mayPass: true);
            // An operation without parameters ignores any it is sent, whatever their values.
            if (op.Parameters.Count == 0 && op.Bodies.Count == 0 && QueryParameters(op).Any() == false)
            {
                foreach (var v in Values())
                    Add(op, v.Category, path + sep + $"{new[] { "limit", "from", "id", "campaign_id" }[random.Next(4)]}={Encode(v)}", null, mayPass: true);
            }
        }

        private void WrongMethods(Operation op, List<Operation> all)
        {
            if (all.First(o => o.Path == op.Path) != op) return;
            var declared = all.Where(o => o.Path == op.Path).Select(o => o.Method).ToHashSet();
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch }.Where(m => !declared.Contains(m)))
            {
                var target = Fill(op, "", "") + BaseQuery(op, except: null);
                _requests.Add(new FuzzRequest(op.Id, Categories.WrongMethod, method, target, method == HttpMethod.Get ? null : "{}"u8.ToArray(),
                    "application/json", null, MayPass: false));
            }
        }

        // ----- bodies

        /// <summary>Does the endpoint read the body itself (tracking events: wrong types inside an event are the
        /// event's fault, answered per event) rather than binding it to a typed record?</summary>
        private static bool ReadsRawEvents(Operation op) => op.Path is "/api/v1/events" or "/api/v1/conversions";

        private static bool IsBatch(Operation op) => op.Path == "/api/v1/events";

        private void Bodies(Operation op, string contentType, JsonElement schema)
        {
            var ndjson = contentType.Contains("ndjson", StringComparison.Ordinal);
            var properties = Properties(op, schema);
            // A batch answers 202 and reports each broken event (audited INVALID): only the body as a whole can be refused.
            var perEvent = IsBatch(op);

            byte[] Valid() => ValidBody(op, ndjson);
            string ValidText() => Encoding.UTF8.GetString(Valid());

            // Malformed JSON (and NDJSON, whose broken lines are broken events).
            var malformed = new List<string>
            {
                "{", "}", "[", "]", "{\"a\":}", "{'name':'x'}", "{\"a\":1,}", "[1,]", "nul", "tru", "{\"a\":1", "\"unterminated", "{\"a\":1e}",
                "{\"a\":01}", "{\"a\":\"\\uZZZZ\"}", "/* comment */ {}", "{\"a\":1}}", "{\"a\":\"\u0001\"}", "\u00ef\u00bb\u00bf{", "  ",
                new string('[', 5_000) + new string(']', 5_000), "{\"a\":" + new string('[', 100) + new string(']', 100) + "}",
                "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":undefined}",
            };
            var valid = ValidText().TrimEnd('\n');
            // Cut short, and two objects on one line.
            malformed.Add(valid[..(valid.Length / 2)]);
            malformed.Add(valid + valid);
            foreach (var m in malformed)
            {
                var category = ndjson ? Categories.MalformedNdjson : Categories.MalformedJson;
                var body = ndjson ? valid + "\n" + m + "\n" : m;
                // NDJSON: a broken line is a broken event of the batch, reported in the 202; a blank body is an empty batch.
                Add(op, category, Target(op), Encoding.UTF8.GetBytes(body), mayPass: ndjson, contentType,
                    rejects: ndjson && !string.IsNullOrWhiteSpace(m) ? 1 : null);
            }

            Add(op, ndjson ? Categories.MalformedNdjson : Categories.MalformedJson, Target(op), [], mayPass: false, contentType);

            // Wrong root types.
            foreach (var root in new[] { "42", "\"text\"", "true", "null", "[]", "[1,2]", "{}", "[[]]", "[null]" })
            {
                // A batch takes a single event object or an array of events, each judged on its own.
                var mayPass = (perEvent && (root.StartsWith('[') || root == "{}" || ndjson)) || (op.Path is "/api/v1/config/attribution" or "/api/v1/replays" or "/api/v1/fraud/rules" && root == "{}");
                Add(op, Categories.WrongRootType, Target(op), Encoding.UTF8.GetBytes(root), mayPass, contentType);
            }

            foreach (var (name, type) in properties)
            {
                // Wrong types.
                foreach (var wrong in new[] { "\"fz\"", "123", "true", "[]", "{}", "[\"a\"]", "{\"a\":{}}" })
                {
                    var isType = wrong switch
                    {
                        "\"fz\"" => type is "string" or "date-time",
                        "123" => type is "number" or "integer",
                        "[]" or "[\"a\"]" => type is "string-array",
                        _ => false,
                    };
                    if (isType) continue;
                    // Event ids may be numbers; a number in a string field of a typed record is a type error.
                    var mayPass = perEvent || (ReadsRawEvents(op) && wrong == "123");
                    Add(op, Categories.WrongType, Target(op), With(op, ndjson, name, wrong), mayPass, contentType);
                }

                // A list of hosts (landing_domains) or of ranges (ip_blocklist, cidrs) refuses anything that is not one:
                // wrong, it could open a redirect. A list of texts (bot_user_agent_patterns) takes any text but none,
                // blank or NUL.
                if (type is "string-array")
                {
                    var freeText = name == "bot_user_agent_patterns";
                    foreach (var bad in new[] { "[\"*\"]", "[\"*.com\"]", "[\"good.com/x\"]", "[\"https://good.com\"]", "[\"user@good.com\"]", "[\"good.com.\"]",
                                 "[\"a b\"]", "[\"good.com:443\"]" })
                        Add(op, Categories.Injection, Target(op), With(op, ndjson, name, bad), mayPass: freeText, contentType);
                    foreach (var bad in new[] { "[\"\\u0000\"]", "[null]", "[\"\"]", "[1]" })
                        Add(op, Categories.Injection, Target(op), With(op, ndjson, name, bad), mayPass: false, contentType);
                }

                if (type is "number" or "integer")
                {
                    foreach (var huge in new[] { "1e400", "1e308", "79228162514264337593543950336", "12345678901234567890123456789012345678901234567890", "9223372036854775808" })
                        Add(op, Categories.HugeNumber, Target(op), With(op, ndjson, name, huge), mayPass: perEvent, contentType, rejects: BrokenEventIndex(op, ndjson, name));
                    foreach (var negative in new[] { "-1", "-1e400", "-0.000001", "-79228162514264337593543950336" })
                        Add(op, Categories.NegativeNumber, Target(op), With(op, ndjson, name, negative), mayPass: perEvent, contentType, rejects: BrokenEventIndex(op, ndjson, name));
                    foreach (var edge in new[] { "0", "-0", "1e-400", "0.1234567890123456789012345678901", "1.0E+2" })
                        Add(op, Categories.Edge, Target(op), With(op, ndjson, name, edge), mayPass: true, contentType);
                }

                if (type is "string" or "date-time")
                {
                    // Invalid UTF-8 in a string: the body is refused; in NDJSON that one line is a rejected event.
                    foreach (var bytes in new byte[][] { [0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF5, 0x80, 0x80, 0x80], [0x80], [0xE2, 0x82] })
                        Add(op, Categories.InvalidUtf8, Target(op), ReplaceMarker(With(op, ndjson, name, $"\"{InvalidUtf8Marker}\""), InvalidUtf8Marker, bytes),
                            mayPass: ndjson, contentType, rejects: ndjson ? 1 : null);
                    foreach (var control in new[] { "\"\\u0000\"", "\"a\\u0000b\"", "\"\\u0001\\u001f\\u007f\"", "\"\\r\\n\\t\"", "\"\\ud800\"", "\"\\udfff\\ud800\"", "\"\\u202e\\ufeff\"" })
                        Add(op, Categories.ControlCharacters, Target(op), With(op, ndjson, name, control), mayPass: true, contentType);
                    foreach (var fragment in new[] { "' OR '1'='1", "x'); DROP TABLE events;--", "../../etc/passwd", "%00", "${jndi:ldap://x}", "<script>alert(1)</script>" })
                        Add(op, Categories.Injection, Target(op), With(op, ndjson, name, JsonSerializer.Serialize(fragment)), mayPass: true, contentType);
                    Add(op, Categories.LongString, Target(op), With(op, ndjson, name, JsonSerializer.Serialize(LongText(600))), mayPass: true, contentType);
                    Add(op, Categories.LongString, Target(op), With(op, ndjson, name, JsonSerializer.Serialize(LongText(20_000))), mayPass: true, contentType);
                    if (type == "date-time")
                    {
                        foreach (var time in new[] { "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59.9999999Z\"", "\"2026-02-30T00:00:00Z\"", "\"now\"", "\"-1\"", "\"10000-01-01T00:00:00Z\"" })
                            Add(op, Categories.Edge, Target(op), With(op, ndjson, name, time), mayPass: true, contentType);
                    }
                }
            }

            // Oversized: the tracking endpoints refuse a body past Tracking:MaxBodyBytes; the others have no limit of their own.
            var padding = JsonSerializer.Serialize(new string('p', MaxBodyBytes + random.Next(1, 4_096)));
            Add(op, Categories.Oversized, Target(op), With(op, ndjson, "zz_padding", padding), mayPass: !ReadsRawEvents(op), contentType);
            if (ndjson)
            {
                var lines = string.Concat(Enumerable.Range(0, MaxBodyBytes / valid.Length + 2).Select(_ => valid + "\n"));
                Add(op, Categories.Oversized, Target(op), Encoding.UTF8.GetBytes(lines), mayPass: false, contentType);
            }

            // Unknown fields are ignored by design (kept in an event's raw payload).
            foreach (var unknown in new[] { "1", "{\"nested\":[1,{\"deep\":null}]}", "\"x\"", "null" })
                Add(op, Categories.UnknownField, Target(op), With(op, ndjson, $"zz_unknown_{random.Next(1000)}", unknown), mayPass: true, contentType);
            foreach (var name in new[] { "__proto__", "constructor", "", "$type" })
                Add(op, Categories.UnknownField, Target(op), With(op, ndjson, name, "{}"), mayPass: true, contentType);
            // A name given twice.
            if (properties.Count > 0)
            {
                var (first, _) = properties[0];
                Add(op, Categories.UnknownField, Target(op), With(op, ndjson, first, "null", duplicate: true), mayPass: true, contentType);
            }

            // Content types the operation does not take: a typed body needs JSON; the tracking endpoints read any body.
            if (contentType == op.Bodies[0].ContentType)
            {
                foreach (var type in new[] { "text/plain", "application/xml", null, "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", "???" })
                    Add(op, Categories.WrongContentType, Target(op), Valid(), mayPass: ReadsRawEvents(op) || type == "application/json; charset=latin1", type);
            }
        }

        /// <summary>Where a batch holds its fuzzed event (see <see cref="With"/>), when a bad number there breaks it:
        /// an impression's bid_price and any event's event_timestamp (a conversion_value on an impression is not read).</summary>
        private static int? BrokenEventIndex(Operation op, bool ndjson, string name) =>
            IsBatch(op) && name is "bid_price" or "event_timestamp" ? (ndjson ? 1 : 0) : null;

        private string Target(Operation op) => Fill(op, "", "") + BaseQuery(op, except: null);

        private List<(string Name, string Type)> Properties(Operation op, JsonElement schema)
        {
            if (IsBatch(op)) return EventFields.Select(f => (f.Key, f.Value)).ToList();
            var resolved = Resolve(schema);
            if (resolved.TryGetProperty("properties", out var props))
            {
                var list = new List<(string, string)>();
                foreach (var p in props.EnumerateObject())
                {
                    var ps = Resolve(p.Value);
                    var type = ps.TryGetProperty("format", out var f) && f.GetString() == "date-time" ? "date-time"
                        : ps.TryGetProperty("type", out var t) ? t.GetString()! : "object";
                    // A list of strings (a campaign's landing domains) takes [] and ["a"] as they are.
                    if (type == "array" && ps.TryGetProperty("items", out var of) && of.TryGetProperty("type", out var ot) && ot.GetString() == "string")
                        type = "string-array";
                    list.Add((p.Name, type));
                    // An array of records (the staged changes): their fields are fuzzed in the first item.
                    if (type == "array" && ps.TryGetProperty("items", out var items))
                        list.AddRange(Properties(op, items).Where(i => list.TrueForAll(l => l.Item1 != i.Name)));
                }

                return list;
            }

            return [];
        }

        private JsonElement Resolve(JsonElement schema) =>
            schema.TryGetProperty("$ref", out var r)
                ? document.GetProperty("components").GetProperty("schemas").GetProperty(r.GetString()!.Split('/')[^1])
                : schema;

        /// <summary>A valid body of the operation built from its schema, with the meaning of each field the
        /// document does not give (which budget types exist, which event types) from the API's contract.</summary>
        private byte[] ValidBody(Operation op, bool ndjson = false) => Encoding.UTF8.GetBytes(ValidNode(op).ToJsonString() + (ndjson ? "\n" : ""));

        private JsonNode ValidNode(Operation op)
        {
            if (IsBatch(op)) return ValidEvent();
            var (_, schema) = op.Bodies[0];
            return ValidFor(Resolve(schema));
        }

        private JsonObject ValidEvent() => new()
        {
            ["event_id"] = $"fz-ev-{_ids++}", ["event_type"] = "IMPRESSION", ["impression_id"] = $"fz-imp-{_ids++}", ["campaign_id"] = "c-fuzz",
            ["bid_price"] = 0.5,
        };

        private JsonNode ValidFor(JsonElement schema)
        {
            var o = new JsonObject();
            if (!schema.TryGetProperty("properties", out var props)) return o;
            foreach (var p in props.EnumerateObject())
            {
                JsonNode? value = p.Name switch
                {
                    "name" => "Fuzz campaign",
                    "budget_amount" => 100,
                    "budget_type" => "DAILY",
                    "status" => "ACTIVE",
                    "campaign_id" => "c-fuzz",
                    "lookback_days" => 7,
                    "late_threshold_minutes" => 60,
                    "impression_id" => $"fz-imp-{_ids++}",
                    "conversion_value" => 1.5,
                    "conversion_type" => "purchase",
                    "changes" => new JsonArray(ValidFor(Resolve(p.Value.GetProperty("items")))),
                    _ => null,
                };
                if (value is not null) o[p.Name] = value;
            }

            return o;
        }

        /// <summary>The operation's valid body with one field set to the raw JSON text given (a batch: the field of its
        /// one event, as an array or a line of NDJSON).</summary>
        private byte[] With(Operation op, bool ndjson, string name, string json, bool duplicate = false)
        {
            var node = ValidNode(op);
            // The staged batch's fields belong to its change, except its own and the unknown ones.
            var target = node["changes"] is JsonArray { Count: > 0 } changes && name != "changes" && !name.StartsWith("zz_", StringComparison.Ordinal)
                ? changes[0]!.AsObject()
                : node.AsObject();

            const string placeholder = "\"@@VALUE@@\"";
            target.Remove(name);
            target[name] = "@@VALUE@@";
            var text = node.ToJsonString();
            if (duplicate) text = text.Replace(placeholder, placeholder + $",\"{name}\":\"again\"", StringComparison.Ordinal);
            text = text.Replace(placeholder, json, StringComparison.Ordinal);
            if (IsBatch(op) && !ndjson) text = "[" + text + "," + ValidEvent().ToJsonString() + "]";
            if (ndjson) text = ValidEvent().ToJsonString() + "\n" + text + "\n";
            return Encoding.UTF8.GetBytes(text);
        }

        // ----- admin key

        private void Add(Operation op, string category, string target, byte[]? body, bool mayPass, string? contentType = "application/json", int? rejects = null)
        {
            if (body is null) contentType = null;
            if (!op.Admin)
            {
                _requests.Add(new FuzzRequest(op.Id, category, op.Method, target, body, contentType, null, mayPass, rejects));
                return;
            }

            // An admin route is fuzzed past its key, and every request is also sent without it (401) and, now and
            // then, with a wrong one (403).
            _requests.Add(new FuzzRequest(op.Id, category, op.Method, target, body, contentType, ApiFactory.AdminKey, mayPass));
            _requests.Add(new FuzzRequest(op.Id, Categories.NoAdminKey, op.Method, target, body, contentType, null, MayPass: false));
            if (random.Next(8) == 0)
            {
                var wrong = new[] { "wrong", "' OR '1'='1", ApiFactory.AdminKey + "x", LongText(3_000), ApiFactory.AdminKey.ToUpperInvariant() }[random.Next(5)];
                _requests.Add(new FuzzRequest(op.Id, Categories.WrongAdminKey, op.Method, target, body, contentType, wrong, MayPass: false));
            }
        }
    }
}
