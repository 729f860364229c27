using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using JasperFx.Events;
using Marten.Events.Aggregation;

namespace Attribution.Projections.EventStore;

/// <summary>
/// Marten's live aggregation of an impression's stream into the domain's per-impression aggregate: Marten reads the
/// stream, the domain folds it (the aggregate keeps every accepted event; its Fold under an attribution policy gives
/// Gold and the outcomes). Live, not inline: the pipeline folds each touched impression once per batch itself, over
/// the events it loaded and the ones it appends, in the same transaction (docs/BENCHMARKS.md, *Event store on Marten*).
/// </summary>
public sealed class ImpressionProjection : SingleStreamProjection<ImpressionAggregate, string>
{
    public override ImpressionAggregate Evolve(ImpressionAggregate? snapshot, string id, IEvent e)
    {
        snapshot ??= new ImpressionAggregate(id);
        if (e.Data is AdEvent adEvent) snapshot.Record(adEvent);
        return snapshot;
    }
}
