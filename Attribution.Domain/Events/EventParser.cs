using System.Globalization;
using System.Text.Json;
using System.Text.Unicode;

namespace Attribution.Domain.Events;

/// <summary>Why an event was refused before it could be applied.</summary>
public sealed record EventRejection(string? EventId, string? ImpressionId, string? EventType, string Detail);

public readonly record struct EventParseResult(AdEvent? Event, EventRejection? Rejection)
{
    public bool IsValid => Event is not null;
}

/// <summary>Turns a wire event into a domain event, or says exactly why it cannot be one.</summary>
public static class EventParser
{
    /// <summary>Money is kept to the micro-unit, as PostgreSQL's numeric(18,6) stores it, so a fold of the
    /// stored events always equals the fold of the events as they arrived.</summary>
    public const int MoneyScale = 6;

    private const decimal MaxMoney = 1_000_000_000_000m;
    private static readonly DateTime MaxTime = new(9999, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static EventParseResult Parse(ReadOnlyMemory<byte> utf8Json, string? fallbackEventId, DateTime fallbackIngestTime)
    {
        try
        {
            CheckText(utf8Json.Span);
            using var doc = JsonDocument.Parse(utf8Json);
            return Parse(doc.RootElement, fallbackEventId, fallbackIngestTime);
        }
        catch (JsonException e)
        {
            return Reject(fallbackEventId, null, null, $"payload is not JSON: {e.Message}");
        }
    }

    /// <summary>Refuses, as a JsonException, what a JSON reader finds only once a string is read: bytes that are
    /// not UTF-8, and an escaped lone UTF-16 surrogate. Such a message is then one INVALID event instead of an
    /// exception wherever its strings are read (a consumer that throws on a message retries it forever).</summary>
    public static void CheckText(ReadOnlySpan<byte> utf8)
    {
        if (!Utf8.IsValid(utf8)) throw new JsonException("the text is not valid UTF-8");
        // In valid UTF-8 only an escape can spell a lone surrogate: reading each escaped string once finds it.
        if (utf8.IndexOf("\\u"u8) < 0) return;
        var reader = new Utf8JsonReader(utf8);
        while (reader.Read())
        {
            if (!reader.ValueIsEscaped || reader.TokenType is not (JsonTokenType.String or JsonTokenType.PropertyName)) continue;
            try
            {
                reader.GetString();
            }
            catch (InvalidOperationException e)
            {
                throw new JsonException($"a string is not valid UTF-16 (an escaped lone surrogate): {e.Message}", e);
            }
        }
    }

    // Rule 2 (validation): missing impression_id, unknown event_type, negative money or an unparseable timestamp
    // make an event INVALID; it is audited with this detail and never applied.
    public static EventParseResult Parse(JsonElement e, string? fallbackEventId, DateTime fallbackIngestTime)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            return Reject(fallbackEventId, null, null, $"an event must be a JSON object, not {e.ValueKind}");
        }

        var eventId = Text(e, EventFields.EventId, out var idError) ?? fallbackEventId;
        var impressionId = Text(e, EventFields.ImpressionId, out var impError);
        var typeText = Text(e, EventFields.EventType, out var typeError);
        if (idError is not null) return Reject(eventId, impressionId, typeText, idError);
        if (impError is not null) return Reject(eventId, null, typeText, impError);
        if (typeError is not null) return Reject(eventId, impressionId, null, typeError);
        if (string.IsNullOrEmpty(eventId)) return Reject(null, impressionId, typeText, "event_id is required");

        var type = EventTypeNames.TryParse(typeText);
        if (type is null)
        {
            return Reject(eventId, impressionId, typeText, typeText is null
                ? "event_type is required (IMPRESSION, CLICK or CONVERSION)"
                : $"unknown event_type '{typeText}' (expected IMPRESSION, CLICK or CONVERSION)");
        }

        var wireType = type.Value.ToWire();
        string? fieldError = null;
        string? Field(string name)
        {
            var value = Text(e, name, out var error);
            fieldError ??= error;
            return value;
        }

        var clickId = Field(EventFields.ClickId);
        string? campaign = Field(EventFields.CampaignId), creative = Field(EventFields.CreativeId),
            user = Field(EventFields.UserId), geo = Field(EventFields.GeoCountry),
            platform = Field(EventFields.Platform), conversionType = Field(EventFields.ConversionType);
        if (fieldError is not null) return Reject(eventId, impressionId, wireType, fieldError);
        var ipText = Field(EventFields.IpAddress);
        var ip = ipText is null ? null : IpAddresses.Canonical(ipText);
        if (ipText is not null && ip is null)
            return Reject(eventId, impressionId, wireType, $"ip_address '{ipText}' is not an IPv4 (a.b.c.d) or IPv6 address");
        var userAgent = UserAgentText(e, out var userAgentError);
        if (userAgentError is not null) return Reject(eventId, impressionId, wireType, userAgentError);
        if (impressionId is null && !(type == AdEventType.Conversion && clickId is not null))
        {
            return Reject(eventId, null, wireType, type == AdEventType.Conversion
                ? "impression_id or click_id is required"
                : "impression_id is required");
        }

        if (!TryTime(e, EventFields.EventTimestamp, milliseconds: false, out var eventTime, out var timeError))
        {
            return Reject(eventId, impressionId, wireType, timeError!);
        }

        if (!TryTime(e, EventFields.IngestTimestamp, milliseconds: true, out var ingestTime, out var ingestError))
        {
            return Reject(eventId, impressionId, wireType, ingestError!);
        }

        var header = (
            EventId: eventId,
            ImpressionId: impressionId,
            EventTime: eventTime ?? fallbackIngestTime,
            IngestTime: ingestTime ?? fallbackIngestTime);

        switch (type.Value)
        {
            case AdEventType.Impression:
                if (!TryMoney(e, EventFields.BidPrice, out var bid, out var bidError))
                    return Reject(eventId, impressionId, wireType, bidError!);
                return new EventParseResult(new ImpressionServed
                {
                    EventId = header.EventId, ImpressionId = header.ImpressionId, EventTime = header.EventTime,
                    IngestTime = header.IngestTime, CampaignId = campaign, CreativeId = creative, UserId = user,
                    GeoCountry = geo, Platform = platform, IpAddress = ip, UserAgent = userAgent, BidPrice = bid,
                }, null);
            case AdEventType.Click:
                return new EventParseResult(new AdClicked
                {
                    EventId = header.EventId, ImpressionId = header.ImpressionId, EventTime = header.EventTime,
                    IngestTime = header.IngestTime, CampaignId = campaign, CreativeId = creative, UserId = user,
                    GeoCountry = geo, Platform = platform, IpAddress = ip, UserAgent = userAgent,
                }, null);
            default:
                if (!TryMoney(e, EventFields.ConversionValue, out var value, out var valueError))
                    return Reject(eventId, impressionId, wireType, valueError!);
                return new EventParseResult(new ConversionReported
                {
                    EventId = header.EventId, ImpressionId = header.ImpressionId, EventTime = header.EventTime,
                    IngestTime = header.IngestTime, CampaignId = campaign, CreativeId = creative, UserId = user,
                    GeoCountry = geo, Platform = platform, IpAddress = ip, UserAgent = userAgent, ConversionValue = value,
                    ConversionType = conversionType, ClickId = clickId,
                }, null);
        }
    }

    /// <summary>Unix seconds (integer or fractional) to a UTC time at microsecond precision.</summary>
    public static DateTime FromUnixSeconds(decimal seconds)
    {
        var micros = decimal.Round(seconds * 1_000_000m, 0, MidpointRounding.AwayFromZero);
        return new DateTime(DateTime.UnixEpoch.Ticks + (long)micros * 10, DateTimeKind.Utc);
    }

    public static decimal ToUnixSeconds(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / (decimal)TimeSpan.TicksPerSecond;

    public static long ToUnixMilliseconds(DateTime utc) => (utc.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>Truncates to what PostgreSQL's timestamptz keeps.</summary>
    public static DateTime ToMicroseconds(DateTime utc) =>
        new(utc.Ticks - (utc.Ticks % 10), DateTimeKind.Utc);

    private static EventParseResult Reject(string? eventId, string? impressionId, string? type, string detail) =>
        new(null, new EventRejection(eventId, impressionId, type?.ToUpperInvariant(), detail));

    /// <summary>Identifiers are indexed and stored as text: a bounded length and no NUL keep one event from
    /// wedging the pipeline on a database error.</summary>
    public const int MaxTextLength = 256;

    /// <summary>A User-Agent is longer than an identifier; past this it is cut (tracking) or refused (batches).</summary>
    public const int MaxUserAgentLength = 1024;

    // Unlike other text fields, an empty user_agent is kept: "sent without one" is what a bot rule looks for.
    private static string? UserAgentText(JsonElement e, out string? error)
    {
        error = null;
        if (!e.TryGetProperty(EventFields.UserAgent, out var p) || p.ValueKind == JsonValueKind.Null) return null;
        if (p.ValueKind != JsonValueKind.String)
        {
            error = $"user_agent must be a string, not {p.ValueKind}";
            return null;
        }

        var s = p.GetString()!;
        if (s.Length > MaxUserAgentLength) error = $"user_agent is longer than {MaxUserAgentLength} characters";
        else if (s.Contains('\0', StringComparison.Ordinal)) error = "user_agent contains a NUL character";
        return error is null ? s : null;
    }

    private static string? Text(JsonElement e, string name, out string? error)
    {
        error = null;
        if (!e.TryGetProperty(name, out var p)) return null;
        switch (p.ValueKind)
        {
            case JsonValueKind.String:
                var s = p.GetString();
                if (string.IsNullOrWhiteSpace(s)) return null;
                if (s.Length > MaxTextLength) error = $"{name} is longer than {MaxTextLength} characters";
                else if (s.Contains('\0', StringComparison.Ordinal)) error = $"{name} contains a NUL character";
                return error is null ? s : null;
            case JsonValueKind.Number:
                return p.GetRawText();
            case JsonValueKind.Null:
                return null;
            default:
                error = $"{name} must be a string, not {p.ValueKind}";
                return null;
        }
    }

    private static bool TryDecimal(JsonElement e, string name, out decimal? value, out string? error)
    {
        value = null;
        error = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind == JsonValueKind.Number && p.TryGetDecimal(out var d))
        {
            value = d;
            return true;
        }

        if (p.ValueKind == JsonValueKind.String &&
            decimal.TryParse(p.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out d))
        {
            value = d;
            return true;
        }

        error = $"{name} must be a number, got {Shorten(p.GetRawText())}";
        return false;
    }

    private static bool TryMoney(JsonElement e, string name, out decimal value, out string? error)
    {
        value = 0m;
        if (!TryDecimal(e, name, out var d, out error)) return false;
        if (d is null) return true;
        if (d < 0m)
        {
            error = $"{name} must not be negative, got {d.Value.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }

        if (d >= MaxMoney)
        {
            error = $"{name} is too large, got {d.Value.ToString(CultureInfo.InvariantCulture)}";
            return false;
        }

        value = decimal.Round(d.Value, MoneyScale, MidpointRounding.AwayFromZero);
        return true;
    }

    private static bool TryTime(JsonElement e, string name, bool milliseconds, out DateTime? value, out string? error)
    {
        value = null;
        error = null;
        if (!e.TryGetProperty(name, out var p) || p.ValueKind == JsonValueKind.Null) return true;
        if (p.ValueKind == JsonValueKind.String &&
            DateTime.TryParse(p.GetString(), CultureInfo.InvariantCulture,
                DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var iso) &&
            !decimal.TryParse(p.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            value = ToMicroseconds(iso);
            return true;
        }

        var unit = milliseconds ? "Unix epoch milliseconds" : "Unix epoch seconds";
        if (!TryDecimal(e, name, out var d, out _) || d is null)
        {
            error = $"{name} is not a time: expected {unit} or ISO-8601, got {Shorten(p.GetRawText())}";
            return false;
        }

        var seconds = milliseconds ? d.Value / 1_000m : d.Value;
        if (seconds <= 0m || seconds >= ToUnixSeconds(MaxTime))
        {
            error = $"{name} is out of range: {Shorten(p.GetRawText())} ({unit})";
            return false;
        }

        value = FromUnixSeconds(seconds);
        return true;
    }

    private static string Shorten(string raw) => raw.Length <= 60 ? raw : raw[..60] + "…";
}
