using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Projections.Audit;

namespace Attribution.Projections.Gold;

/// <summary>Folds impressions through the domain aggregate into Gold rows and their derived audit outcomes.</summary>
public static class GoldProjection
{
    public static (List<GoldRow> Rows, List<AuditEntry> Derived, int LateApplied) Fold(
        IEnumerable<(string ImpressionId, IReadOnlyCollection<AdEvent> Events, int StreamVersion)> streams,
        AttributionPolicy policy)
    {
        var rows = new List<GoldRow>();
        var derived = new List<AuditEntry>();
        var late = 0;
        foreach (var (id, events, version) in streams)
        {
            var fold = ImpressionAggregate.Fold(id, events, policy);
            rows.Add(new GoldRow(fold.Gold, version));
            foreach (var o in fold.Outcomes)
            {
                if (o.Reason is { } reason) derived.Add(new AuditEntry(o.Event.EventId, id, o.Event.Type.ToWire(), reason, o.Detail));
                else if (o.Event.Lateness > policy.LateThreshold) late++;
            }
        }

        return (rows, derived, late);
    }
}
