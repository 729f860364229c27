using System.Text;
using Attribution.Domain.Events;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Domain;

/// <summary>Rule 2 (validation): what makes a wire event INVALID, and what it becomes when it is valid.</summary>
public class EventParserTests
{
    private static EventParseResult Parse(string json) => EventParser.Parse(Encoding.UTF8.GetBytes(json), "fallback-id", Scenario.T0);

    [Theory]
    [InlineData("""{"event_type":"CLICK"}""", "impression_id is required")]
    [InlineData("""{"event_type":"CONVERSION","conversion_value":1}""", "impression_id or click_id is required")]
    [InlineData("""{"event_type":"VIEW","impression_id":"i"}""", "unknown event_type 'VIEW'")]
    [InlineData("""{"impression_id":"i"}""", "event_type is required")]
    [InlineData("""{"event_type":"IMPRESSION","impression_id":"i","bid_price":-0.01}""", "bid_price must not be negative")]
    [InlineData("""{"event_type":"CONVERSION","impression_id":"i","conversion_value":-5}""", "conversion_value must not be negative")]
    [InlineData("""{"event_type":"CONVERSION","impression_id":"i","conversion_value":"lots"}""", "conversion_value must be a number")]
    [InlineData("""{"event_type":"CLICK","impression_id":"i","event_timestamp":"yesterday"}""", "event_timestamp is not a time")]
    [InlineData("""{"event_type":"CLICK","impression_id":"i","event_timestamp":-3}""", "event_timestamp is out of range")]
    [InlineData("""{"event_type":"CLICK","impression_id":{"a":1}}""", "impression_id must be a string")]
    [InlineData("""{"event_type":"CLICK","impression_id":"i","campaign_id":"a\u0000b"}""", "campaign_id contains a NUL character")]
    [InlineData("""[1,2]""", "an event must be a JSON object")]
    [InlineData("""{"event_type":""", "payload is not JSON")]
    [InlineData("""{"event_type":"CLICK","impression_id":"i","user_id":"\udfff\ud800"}""", "an escaped lone surrogate")]
    public void An_invalid_event_is_rejected_with_its_reason(string json, string reason)
    {
        var result = Parse(json);

        Assert.False(result.IsValid);
        Assert.Contains(reason, result.Rejection!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_message_that_is_not_utf8_is_invalid_instead_of_throwing_at_its_consumer()
    {
        byte[] message = [.. "{\"event_type\":\"CLICK\",\"impression_id\":\""u8, 0xFF, 0xFE, .. "\"}"u8];

        var result = EventParser.Parse(message, "fallback-id", Scenario.T0);

        Assert.Contains("not valid UTF-8", result.Rejection!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Identifiers_longer_than_the_limit_are_invalid()
    {
        var result = Parse($$"""{"event_type":"CLICK","impression_id":"i","user_id":"{{new string('u', EventParser.MaxTextLength + 1)}}"}""");

        Assert.Contains("user_id is longer than 256 characters", result.Rejection!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Event_type_is_case_insensitive_and_timestamps_are_unix_seconds_with_fractions()
    {
        var result = Parse("""{"event_id":"e1","event_type":"click","impression_id":"i","event_timestamp":1706600050.25,"ingest_timestamp":1706600051000}""");

        var click = Assert.IsType<AdClicked>(result.Event);
        Assert.Equal(new DateTime(2024, 1, 30, 7, 34, 10, 250, DateTimeKind.Utc), click.EventTime);
        Assert.Equal(new DateTime(2024, 1, 30, 7, 34, 11, DateTimeKind.Utc), click.IngestTime);
    }

    [Fact]
    public void Money_keeps_exact_decimal_values_to_the_micro_unit()
    {
        var result = Parse("""{"event_id":"e1","event_type":"CONVERSION","impression_id":"i","conversion_value":19.9900004}""");

        Assert.Equal(19.99m, Assert.IsType<ConversionReported>(result.Event).ConversionValue);
    }

    [Fact]
    public void A_postback_may_name_a_click_instead_of_an_impression()
    {
        var result = Parse("""{"event_id":"e1","event_type":"CONVERSION","click_id":"c-9","conversion_value":5}""");

        var conversion = Assert.IsType<ConversionReported>(result.Event);
        Assert.Null(conversion.ImpressionId);
        Assert.Equal("c-9", conversion.ClickId);
    }

    [Fact]
    public void Missing_times_default_to_the_fallback_and_a_missing_event_id_to_the_fallback_id()
    {
        var result = Parse("""{"event_type":"IMPRESSION","impression_id":"i","bid_price":"1.5"}""");

        var impression = Assert.IsType<ImpressionServed>(result.Event);
        Assert.Equal("fallback-id", impression.EventId);
        Assert.Equal(Scenario.T0, impression.EventTime);
        Assert.Equal(1.5m, impression.BidPrice);
    }

    [Fact]
    public void Normalize_fills_the_tracking_defaults_and_keeps_other_fields_verbatim()
    {
        var payload = new System.Text.Json.Nodes.JsonObject { ["event_type"] = "impression", ["impression_id"] = "i", ["meta_pixels"] = new System.Text.Json.Nodes.JsonObject { ["x"] = 1 } };
        var now = new DateTime(2026, 1, 1, 0, 0, 0, 123, DateTimeKind.Utc);

        EventEnvelope.Normalize(payload, now);

        Assert.Equal("IMPRESSION", payload["event_type"]!.GetValue<string>());
        Assert.True(Guid.TryParse(payload["event_id"]!.GetValue<string>(), out var id));
        Assert.Equal(7, id.Version);
        Assert.Equal(EventParser.ToUnixMilliseconds(now), payload["ingest_timestamp"]!.GetValue<long>());
        Assert.Equal(1, payload["meta_pixels"]!["x"]!.GetValue<int>());
        Assert.Equal(now, EventParser.Parse(Encoding.UTF8.GetBytes(payload.ToJsonString()), null, DateTime.UnixEpoch).Event!.EventTime);
    }

    [Fact]
    public void New_event_ids_are_version_7_uuids_of_the_receipt_time_ordered_by_it_and_never_repeat()
    {
        var t0 = new DateTime(2026, 1, 1, 0, 0, 0, 123, DateTimeKind.Utc);
        var ids = Enumerable.Range(0, 100_000).Select(i => Guid.Parse(EventEnvelope.NewEventId(t0.AddMilliseconds(i / 1000)))).ToList();
        Assert.All(ids.Take(100), id => Assert.Equal(7, id.Version));
        Assert.All(ids.Take(100), id => Assert.Equal(0x8, id.Variant & 0xC)); // RFC 9562's variant: 10xx
        Assert.Equal(ids.Count, ids.Distinct().Count());
        // The first 48 bits are the receipt time in milliseconds since the epoch, so ids of later times sort after.
        var first = ids[0].ToString("N")[..12];
        Assert.Equal(EventParser.ToUnixMilliseconds(t0), Convert.ToInt64(first, 16));
        Assert.True(string.CompareOrdinal(ids[999].ToString(), ids[1000].ToString()) < 0);
        Assert.True(string.CompareOrdinal(ids[1000].ToString(), ids[99_999].ToString()) < 0);
    }

    [Fact]
    public void A_tracking_url_becomes_the_event_Normalize_would_make_of_its_parameters()
    {
        var now = new DateTime(2026, 1, 1, 0, 0, 0, 123, DateTimeKind.Utc);
        KeyValuePair<string, string?>[] query =
        [
            new("impression_id", "i-1"), new("bid_price", "1.25"), new("event_type", "CLICK"), new("ingest_timestamp", "5"),
            new("event_id", " "), new("platform", "IOS"), new("platform", "WEB"), new("campaign_id", null), new("conversion_value", "abc"),
        ];

        var json = System.Text.Json.Nodes.JsonNode.Parse(EventEnvelope.FromQuery(query, EventTypeNames.Impression, now, NoClient))!.AsObject();

        Assert.Equal("IMPRESSION", json["event_type"]!.GetValue<string>());
        Assert.Equal(7, Guid.Parse(json["event_id"]!.GetValue<string>()).Version);
        Assert.Equal(1.25m, json["bid_price"]!.GetValue<decimal>());
        Assert.Equal("abc", json["conversion_value"]!.GetValue<string>());
        Assert.Equal("IOS", json["platform"]!.GetValue<string>());
        Assert.False(json.ContainsKey("campaign_id"));
        Assert.Equal(EventParser.ToUnixMilliseconds(now), json["ingest_timestamp"]!.GetValue<long>());
        Assert.Equal(now, EventParser.Parse(EventEnvelope.FromQuery(query[..2], EventTypeNames.Impression, now, NoClient), null, DateTime.UnixEpoch).Event!.EventTime);
    }

    [Fact]
    public void A_tracking_url_keeps_its_own_event_id_and_event_timestamp()
    {
        KeyValuePair<string, string?>[] query = [new("impression_id", "i-1"), new("event_id", "e-1"), new("event_timestamp", "1767225600")];

        var result = EventParser.Parse(EventEnvelope.FromQuery(query, EventTypeNames.Click, DateTime.UtcNow, NoClient), null, DateTime.UtcNow);

        Assert.Equal("e-1", result.Event!.EventId);
        Assert.Equal(new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc), result.Event.EventTime);
        Assert.IsType<AdClicked>(result.Event);
    }

    private static readonly ObservedClient NoClient = ObservedClient.Of(null, null);

    [Fact]
    public void A_tracking_url_takes_the_clients_address_and_user_agent_from_the_request_never_from_its_parameters()
    {
        KeyValuePair<string, string?>[] query = [new("impression_id", "i-1"), new("ip_address", "6.6.6.6"), new("user_agent", "Spoofed/1.0")];

        var e = EventParser.Parse(EventEnvelope.FromQuery(query, EventTypeNames.Click, DateTime.UtcNow, ObservedClient.Of("::ffff:203.0.113.9", "Mozilla/5.0")), null, DateTime.UtcNow).Event!;
        var bare = EventParser.Parse(EventEnvelope.FromQuery(query, EventTypeNames.Click, DateTime.UtcNow, NoClient), null, DateTime.UtcNow).Event!;

        Assert.Equal(("203.0.113.9", "Mozilla/5.0"), (e.IpAddress, e.UserAgent));
        Assert.Equal((null, ""), (bare.IpAddress, bare.UserAgent));
    }

    [Fact]
    public void A_user_agent_past_the_limit_is_cut_at_the_request_and_refused_in_a_batch()
    {
        var longAgent = new string('a', EventParser.MaxUserAgentLength - 1) + "\U0001F600" + "tail";
        var cut = ObservedClient.Of(null, longAgent).UserAgent;
        Assert.Equal(EventParser.MaxUserAgentLength - 1, cut.Length);
        Assert.Equal("x y", ObservedClient.Of(null, "x\0y").UserAgent);

        var batch = Parse($$"""{"event_id":"e","event_type":"IMPRESSION","impression_id":"i","user_agent":"{{new string('a', EventParser.MaxUserAgentLength + 1)}}"}""");
        Assert.Contains("user_agent is longer", batch.Rejection!.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
    [InlineData("::ffff:198.51.100.4", "198.51.100.4")]
    [InlineData("10.1", null)]
    [InlineData("1.2.3.256", null)]
    [InlineData("fe80::1%eth0", null)]
    [InlineData("localhost", null)]
    [InlineData("", null)]
    public void An_ip_address_is_kept_in_canonical_text_or_refused(string text, string? canonical) =>
        Assert.Equal(canonical, IpAddresses.Canonical(text));

    [Fact]
    public void A_batch_event_may_carry_an_address_and_an_empty_user_agent_and_a_bad_address_makes_it_invalid()
    {
        var e = Parse("""{"event_id":"e","event_type":"CLICK","impression_id":"i","ip_address":"2001:db8::0:1","user_agent":""}""").Event!;
        Assert.Equal(("2001:db8::1", ""), (e.IpAddress, e.UserAgent));
        var none = Parse("""{"event_id":"e","event_type":"CLICK","impression_id":"i"}""").Event!;
        Assert.Equal((null, null), (none.IpAddress, none.UserAgent));

        var bad = Parse("""{"event_id":"e","event_type":"CLICK","impression_id":"i","ip_address":"999.1.1.1"}""");
        Assert.Equal("ip_address '999.1.1.1' is not an IPv4 (a.b.c.d) or IPv6 address", bad.Rejection!.Detail);
        Assert.Contains("user_agent must be a string", Parse("""{"event_id":"e","event_type":"CLICK","impression_id":"i","user_agent":5}""").Rejection!.Detail, StringComparison.Ordinal);
    }
}
