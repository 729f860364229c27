using System.Data;
using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using Attribution.Domain.Fraud;
using Attribution.Projections.Config;
using Attribution.Projections.EventStore;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Fraud;

/// <summary>What a backtest found: the summary under the proposed rules and under those in force, their difference,
/// and up to <see cref="FraudBacktest.SamplesPerRule"/> flagged event ids per rule under the proposed ones.</summary>
public sealed record BacktestOutcome(
    long Impressions, FraudSummary Proposed, FraudSummary InForce, IReadOnlyDictionary<FraudRule, List<string>> Samples);

/// <summary>
/// Backtesting (issue 22): judges the stored events of a range by other fraud rules without changing anything. Every
/// impression with an event in [from, to) is folded twice, under the proposed rules and under those in force, from one
/// snapshot of the store; the flagged events in the range are summed as the fraud summary sums them.
/// </summary>
public sealed class FraudBacktest(NpgsqlDataSource db, AttributionConfigStore config)
{
    public const int SamplesPerRule = 20;

    /// <summary>A backtest folds every impression of its range in this request: larger ranges are refused up front.</summary>
    public const int MaxImpressions = 1_000_000;

    private const int Chunk = 5000;

    /// <summary>Null when the range holds more than <see cref="MaxImpressions"/> impressions.</summary>
    public async Task<BacktestOutcome?> RunAsync(DateTime from, DateTime to, FraudSettings proposed, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct);
        var inForce = await config.ReadAsync(conn, tx, ct);
        var trial = inForce with { Fraud = proposed };
        var impressions = await ImpressionsAsync(conn, tx, from, to, ct);
        if (impressions is null) return null;

        var samples = new Dictionary<FraudRule, List<string>>();
        var outcome = new BacktestOutcome(impressions.Count, new FraudSummary(), new FraudSummary(), samples);
        foreach (var ids in impressions.Chunk(Chunk))
        {
            var streams = await EventStoreReader.LoadStreamsAsync(conn, tx, ids, ct);
            var events = streams.ToDictionary(s => s.Key, s => s.Value.ConvertAll(e => e.Event), StringComparer.Ordinal);
            var judged = events.Values.SelectMany(e => e).Select(JudgedClick.Of).OfType<JudgedClick>().ToList();
            var trialFlags = await JudgedClicks.FlagsAsync(conn, tx, judged, trial.Fraud, ct);
            var inForceFlags = await JudgedClicks.FlagsAsync(conn, tx, judged, inForce.Fraud, ct);
            foreach (var (id, history) in events)
            {
                foreach (var e in Flagged(id, history, trial, trialFlags, from, to))
                {
                    outcome.Proposed.Add(e);
                    foreach (var rule in e.Rules)
                    {
                        if (!samples.TryGetValue(rule, out var ofRule)) samples[rule] = ofRule = [];
                        if (ofRule.Count < SamplesPerRule) ofRule.Add(e.EventId);
                    }
                }

                foreach (var e in Flagged(id, history, inForce, inForceFlags, from, to)) outcome.InForce.Add(e);
            }
        }

        return outcome;
    }

    private static IEnumerable<FlaggedEvent> Flagged(string id, List<AdEvent> events, AttributionPolicy policy,
        Dictionary<string, FraudRule[]> clickFlags, DateTime from, DateTime to) =>
        FlaggedEvents.Of(ImpressionAggregate.Fold(id, events, policy, clickFlags), events, policy)
            .Where(e => e.EventTime >= from && e.EventTime < to);

    private static async Task<List<string>?> ImpressionsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, DateTime from, DateTime to, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            SELECT DISTINCT stream_id FROM events WHERE event_time >= $1 AND event_time < $2 ORDER BY stream_id LIMIT $3
            """, conn, tx);
        cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = MaxImpressions + 1 });
        var ids = new List<string>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetString(0));
        return ids.Count > MaxImpressions ? null : ids;
    }
}
