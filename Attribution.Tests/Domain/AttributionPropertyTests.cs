using Attribution.Tests.Fixtures;
using System.Text;
using System.Text.Json.Nodes;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using FsCheck;
using FsCheck.Fluent;
using static Attribution.Tests.Fixtures.Scenario;

namespace Attribution.Tests.Domain;

/// <summary>Rule 9 and the money invariants, over random event sets of one impression: random impressions, clicks,
/// conversions, repeated deliveries, late and invalid events, in random arrival orders.</summary>
public class AttributionPropertyTests
{
    private static readonly Config Runs = Config.QuickThrowOnFailure.WithMaxTest(400);

    /// <summary>A delivery is a wire event; the same event_id may be delivered more than once.</summary>
    private static Gen<List<JsonObject>> Deliveries()
    {
        // Few distinct instants, so ties in event time (broken by event_id) happen often.
        var instant = Gen.Elements(0, 1, 2, 60, 3600, 86_400, 6 * 86_400, 7 * 86_400, 8 * 86_400, 10 * 86_400).Select(s => TimeSpan.FromSeconds(s));
        var lateness = Gen.Frequency((3, Gen.Constant(TimeSpan.Zero)), (1, Gen.Elements(30, 90, 600).Select(m => TimeSpan.FromMinutes(m))));
        var value = Gen.Choose(0, 100_000).Select(c => c / 100m);
        var id = Gen.Choose(0, 9999).Select(n => $"e{n:D4}");
        var one =
            from kind in Gen.Frequency((2, Gen.Constant(0)), (4, Gen.Constant(1)), (4, Gen.Constant(2)), (1, Gen.Constant(3)))
            from eventId in id
            from at in instant
            from late in lateness
            from amount in value
            select kind switch
            {
                0 => Impression("imp-1", eventId, at, bid: amount / 100m),
                1 => Click("imp-1", eventId, at, at + late),
                2 => Conversion("imp-1", eventId, at, amount, at + late),
                _ => new JsonObject { ["event_id"] = eventId, ["event_type"] = "CONVERSION", ["impression_id"] = "imp-1", ["conversion_value"] = -amount - 1 },
            };
        return from events in Gen.ListOf(one, 0).SelectMany(_ => Gen.Choose(0, 14).SelectMany(n => Gen.ListOf(one, n)))
            from repeats in Gen.SubListOf((IEnumerable<JsonObject>)events)
            from order in Gen.Shuffle(events.Concat(repeats.Select(r => r.DeepClone().AsObject())).ToArray())
            select order.ToList();
    }

    /// <summary>What the pipeline does with deliveries, in memory: validate, dedup by event_id, fold.</summary>
    private static (ImpressionFold Fold, List<(string Id, string Reason)> Audit) Process(IEnumerable<JsonObject> deliveries)
    {
        var audit = new List<(string, string)>();
        var valid = new List<AdEvent>();
        foreach (var d in deliveries)
        {
            var r = EventParser.Parse(Encoding.UTF8.GetBytes(d.ToJsonString()), null, T0);
            if (r.Event is { } e) valid.Add(e);
            else audit.Add((r.Rejection!.EventId!, "INVALID"));
        }

        var (fresh, dups) = EventDeduplication.Partition(valid, e => e.EventId, _ => false);
        audit.AddRange(dups.Select(d => (d.EventId, "DUPLICATE_EVENT")));
        var aggregate = new ImpressionAggregate("imp-1");
        foreach (var e in fresh) aggregate.Record(e);
        var fold = aggregate.Fold(AttributionPolicy.Default);
        audit.AddRange(fold.Audited.Select(o => (o.Event.EventId, o.Reason!.Value.ToWire())));
        audit.Sort();
        return (fold, audit);
    }

    private static Gen<List<JsonObject>> UniqueIds(Gen<List<JsonObject>> g) =>
        // The same event_id must carry the same event for dedup to be order-free; ids are reused only by repeats.
        g.Select(list => list.GroupBy(e => e["event_id"]!.ToString()).SelectMany(grp => grp.Where(e => e.ToJsonString() == grp.First().ToJsonString())).ToList());

    [Fact]
    public void Every_arrival_order_yields_the_same_gold_and_the_same_audit_outcomes()
    {
        var gen = from deliveries in UniqueIds(Deliveries())
            from other in Gen.Shuffle(deliveries.ToArray())
            select (deliveries, other.ToList());
        Prop.ForAll(gen.ToArbitrary(), pair =>
        {
            var (a, auditA) = Process(pair.deliveries);
            var (b, auditB) = Process(pair.Item2);
            Assert.Equal(a.Gold, b.Gold);
            Assert.Equal(auditA, auditB);
        }).Check(Runs);
    }

    [Fact]
    public void Revenue_plus_out_of_window_plus_audited_conversions_equals_all_valid_conversion_value()
    {
        Prop.ForAll(UniqueIds(Deliveries()).ToArbitrary(), deliveries =>
        {
            var (fold, _) = Process(deliveries);
            var conversions = fold.Outcomes.Where(o => o.Event is ConversionReported).ToList();
            var total = conversions.Sum(o => ((ConversionReported)o.Event).ConversionValue);
            var audited = conversions.Where(o => o.Reason is AuditReason.NoPriorClick or AuditReason.ExtraConversion)
                .Sum(o => ((ConversionReported)o.Event).ConversionValue);
            Assert.Equal(total, fold.Gold.Revenue + fold.Gold.RevenueOutOfWindow + audited);
        }).Check(Runs);
    }

    [Fact]
    public void A_converted_impression_is_always_clicked_and_eligible()
    {
        Prop.ForAll(UniqueIds(Deliveries()).ToArbitrary(), deliveries =>
        {
            var gold = Process(deliveries).Fold.Gold;
            Assert.True(!gold.IsConverted || (gold.IsClicked && gold.Eligible && gold.Revenue >= 0));
        }).Check(Runs);
    }

    [Fact]
    public void Applying_the_same_events_twice_equals_applying_them_once()
    {
        Prop.ForAll(UniqueIds(Deliveries()).ToArbitrary(), deliveries =>
        {
            var once = Process(deliveries).Fold;
            var twice = Process(deliveries.Concat(deliveries.Select(d => d.DeepClone().AsObject()))).Fold;
            Assert.Equal(once.Gold, twice.Gold);
            Assert.Equal(once.Audited.Select(o => (o.Event.EventId, o.Reason)), twice.Audited.Select(o => (o.Event.EventId, o.Reason)));
        }).Check(Runs);
    }

    [Fact]
    public void The_one_pass_fold_equals_the_rules_read_one_query_each()
    {
        Prop.ForAll(UniqueIds(Deliveries()).ToArbitrary(), deliveries =>
        {
            var events = deliveries.Select(d => EventParser.Parse(Encoding.UTF8.GetBytes(d.ToJsonString()), null, T0).Event)
                .OfType<AdEvent>().DistinctBy(e => e.EventId).ToList();
            var fold = ImpressionAggregate.Fold("imp-1", events, AttributionPolicy.Default);
            var reference = ReferenceFold("imp-1", events, AttributionPolicy.Default);
            Assert.Equal(reference.Gold, fold.Gold);
            Assert.Equal(reference.Outcomes, fold.Outcomes);
        }).Check(Runs);
    }

    [Fact]
    public void An_impression_with_many_events_folds_as_the_rules_say()
    {
        // Past the insertion sort's reach: the long histories of a bot or a replayed stream take the other path.
        var gen = from n in Gen.Choose(33, 80)
            from list in Gen.ListOf(Deliveries(), 6)
            select list.SelectMany(l => l).GroupBy(e => e["event_id"]!.ToString()).Select(g => g.First()).Take(n).ToList();
        Prop.ForAll(gen.ToArbitrary(), deliveries =>
        {
            var events = deliveries.Select(d => EventParser.Parse(Encoding.UTF8.GetBytes(d.ToJsonString()), null, T0).Event)
                .OfType<AdEvent>().ToList();
            var fold = ImpressionAggregate.Fold("imp-1", events, AttributionPolicy.Default);
            var reference = ReferenceFold("imp-1", events, AttributionPolicy.Default);
            Assert.Equal(reference.Gold, fold.Gold);
            Assert.Equal(reference.Outcomes, fold.Outcomes);
        }).CheckSeeded(Config.QuickThrowOnFailure.WithMaxTest(100));
    }

    /// <summary>Rules 3-8 as the design states them, one query per rule: the oracle the one-pass fold is checked against.</summary>
    private static ImpressionFold ReferenceFold(string impressionId, IEnumerable<AdEvent> events, AttributionPolicy policy)
    {
        static string Iso(DateTime t) => t.ToString("yyyy-MM-ddTHH:mm:ss.FFFFFFZ", System.Globalization.CultureInfo.InvariantCulture);
        var ordered = events.OrderBy(e => e.EventTime).ThenBy(e => e.EventId, StringComparer.Ordinal).ToList();
        var outcomes = new Dictionary<string, EventOutcome>(StringComparer.Ordinal);
        var impressions = ordered.OfType<ImpressionServed>().ToList();
        var impression = impressions.FirstOrDefault();
        foreach (var other in impressions.Skip(1))
        {
            outcomes[other.EventId] = new EventOutcome(other, AuditReason.DuplicateImpression,
                $"impression {impression!.EventId} at {Iso(impression.EventTime)} is the impression of record", null);
        }

        var clicks = ordered.OfType<AdClicked>().ToList();
        ConversionReported? credited = null;
        var revenueOutOfWindow = 0m;
        var conversions = ordered.OfType<ConversionReported>().ToList();
        foreach (var conversion in conversions)
        {
            var click = clicks.LastOrDefault(c => c.EventTime <= conversion.EventTime);
            if (click is null)
            {
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.NoPriorClick,
                    $"no click at or before {Iso(conversion.EventTime)}; view-through is not counted", null);
            }
            else if (conversion.EventTime - click.EventTime > policy.Lookback)
            {
                revenueOutOfWindow += conversion.ConversionValue;
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.OutOfWindow,
                    $"{Durations.Format(conversion.EventTime - click.EventTime)} after click {click.EventId}, beyond the {Durations.Format(policy.Lookback)} lookback",
                    click);
            }
            else if (credited is null)
            {
                credited = conversion;
                outcomes[conversion.EventId] = new EventOutcome(conversion, null, null, click);
            }
            else
            {
                outcomes[conversion.EventId] = new EventOutcome(conversion, AuditReason.ExtraConversion,
                    $"impression already converted by {credited.EventId} at {Iso(credited.EventTime)}", click);
            }
        }

        var all = ordered.Select(e => outcomes.TryGetValue(e.EventId, out var o) ? o : new EventOutcome(e, null, null, null)).ToList();
        var lateBy = all.Where(o => o.Applied && o.Event.Lateness > policy.LateThreshold)
            .Select(o => (long?)(o.Event.Lateness.Ticks / TimeSpan.TicksPerMillisecond)).Max();
        return new ImpressionFold(new GoldState(impressionId, impression?.CampaignId, impression?.CreativeId, impression?.UserId,
            impression?.GeoCountry, impression?.Platform, clicks.Count > 0, credited is not null, impression?.EventTime,
            clicks.Count > 0 ? clicks[^1].EventTime : null, credited?.EventTime, impression?.BidPrice ?? 0m,
            credited?.ConversionValue ?? 0m, conversions.Count == 0 || credited is not null, lateBy is not null, lateBy ?? 0,
            revenueOutOfWindow) { ClickCount = clicks.Count }, all);
    }
}
