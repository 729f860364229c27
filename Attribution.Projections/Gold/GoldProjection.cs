using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Audit;

namespace Attribution.Projections.Gold;

/// <summary>Folds impressions through the domain aggregate into Gold rows and their derived audit outcomes.</summary>
public static class GoldProjection
{
    public static (List<GoldRow> Rows, List<AuditEntry> Derived, List<FlaggedEvent> Flagged) Fold(
        IEnumerable<(string ImpressionId, IReadOnlyCollection<AdEvent> Events, int StreamVersion)> streams,
        AttributionPolicy policy, IReadOnlyDictionary<string, FraudRule[]>? clickFlags = null)
    {
        var rows = new List<GoldRow>();
        var derived = new List<AuditEntry>();
        var flagged = new List<FlaggedEvent>();
        // Impressions fold independently of each other: a large batch folds on every core, and the results are
        // gathered in input order so rows and audit entries come out exactly as a sequential fold makes them.
        var list = streams as IReadOnlyList<(string ImpressionId, IReadOnlyCollection<AdEvent> Events, int StreamVersion)> ?? streams.ToList();
        var folds = new ImpressionFold[list.Count];
        if (list.Count >= 256 && Environment.ProcessorCount > 1)
            Parallel.For(0, list.Count, i => folds[i] = ImpressionAggregate.Fold(list[i].ImpressionId, list[i].Events, policy, clickFlags));
        else
            for (var i = 0; i < list.Count; i++) folds[i] = ImpressionAggregate.Fold(list[i].ImpressionId, list[i].Events, policy, clickFlags);
        for (var i = 0; i < list.Count; i++)
        {
            var (id, _, version) = list[i];
            var fold = folds[i];
            rows.Add(new GoldRow(fold.Gold, version));
            if (fold.Gold.FraudReasons.Length > 0) flagged.AddRange(FlaggedEvents.Of(fold, list[i].Events, policy));
            foreach (var o in fold.Outcomes)
            {
                if (o.Reason is { } reason) derived.Add(new AuditEntry(o.Event.EventId, id, o.Event.Type.ToWire(), reason, o.Detail));
            }
        }

        return (rows, derived, flagged);
    }
}
