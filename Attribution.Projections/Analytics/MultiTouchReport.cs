using Attribution.Domain.MultiTouch;
using Attribution.Projections.Config;
using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Analytics;

/// <summary>A Gold conversion with what multi-touch needs: the domain conversion and the impression's campaign.</summary>
public sealed record GoldConversion(Conversion Conversion, string GoldCampaignId);

/// <summary>Conversions in a range and every click of the users who matter, read once, credited by any model.</summary>
/// <param name="OtherPaths">Click paths of users with clicks in the range and no conversion in it (for the data-driven fit).</param>
public sealed record MultiTouchInput(
    IReadOnlyList<GoldConversion> Conversions,
    IReadOnlyDictionary<string, List<Touchpoint>> ClicksByUser,
    IReadOnlyList<CampaignPath> OtherPaths,
    MultiTouchOptions Options);

/// <summary>Revenue and conversions credited to one campaign by one model; conversions are the summed shares.</summary>
public sealed record CampaignShare(string CampaignId, decimal Revenue, decimal Conversions);

public sealed record ModelCredit(string Model, IReadOnlyList<CampaignShare> Campaigns, IReadOnlyList<ConversionCredit> PerConversion);

/// <summary>
/// User-level multi-touch attribution over Gold's conversions (issue 5). A conversion is a Gold row with
/// is_converted and its revenue; its touchpoints are its user's clicks (Bronze, any campaign) within the lookback of
/// attribution_config, plus the click Gold credited, which the domain always includes.
/// </summary>
public sealed class MultiTouchReport(NpgsqlDataSource dataSource, AttributionConfigStore config)
{
    /// <summary>The name of Gold's own impression-level last-click credit, shown next to the user-level models.</summary>
    public const string GoldLastClick = "gold_last_click";

    /// <summary>Campaign id used when the impression carried none.</summary>
    public const string UnknownCampaign = "(unknown)";

    public async Task<MultiTouchInput> LoadAsync(DateTime from, DateTime to, bool withOtherPaths, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var policy = await config.ReadAsync(conn, null, ct);
        var options = new MultiTouchOptions { Lookback = policy.Lookback };

        var conversions = new List<GoldConversion>();
        await using (var cmd = new NpgsqlCommand("""
            SELECT g.impression_id, g.user_id, g.conversion_time, g.revenue, g.campaign_id,
                   (SELECT max(c.event_time) FROM events c
                    WHERE c.stream_id = g.impression_id AND c.event_type = 'CLICK' AND c.event_time <= g.conversion_time)
            FROM ad_performance_state g
            WHERE g.is_converted AND g.conversion_time >= $1 AND g.conversion_time < $2
            ORDER BY g.conversion_time, g.impression_id
            """, conn))
        {
            AddRange(cmd, from, to);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var impressionId = reader.GetString(0);
                var convertedAt = reader.GetFieldValue<DateTimeOffset>(2);
                var campaign = reader.IsDBNull(4) ? UnknownCampaign : reader.GetString(4);
                // Rule 5 credits the impression's last click at or before the conversion; it is in Bronze by construction.
                var clickedAt = reader.IsDBNull(5) ? convertedAt : reader.GetFieldValue<DateTimeOffset>(5);
                var user = reader.IsDBNull(1) ? "" : reader.GetString(1);
                conversions.Add(new GoldConversion(
                    new Conversion(impressionId, user, convertedAt, reader.GetDecimal(3), campaign, clickedAt, impressionId), campaign));
            }
        }

        var users = conversions.Select(c => c.Conversion.UserId).Where(u => u.Length > 0).Distinct(StringComparer.Ordinal).ToArray();
        var clicks = new Dictionary<string, List<Touchpoint>>(StringComparer.Ordinal);
        var inRange = new Dictionary<string, List<Touchpoint>>(StringComparer.Ordinal);
        if (users.Length > 0 || withOtherPaths)
        {
            await using var cmd = new NpgsqlCommand($"""
                SELECT coalesce(g.user_id, e.user_id) AS user_id, coalesce(g.campaign_id, e.campaign_id), e.event_time, e.stream_id
                FROM events e LEFT JOIN ad_performance_state g ON g.impression_id = e.stream_id
                WHERE e.event_type = 'CLICK' AND e.event_time >= $1 AND e.event_time < $2
                  AND coalesce(g.user_id, e.user_id) IS NOT NULL
                  {(withOtherPaths ? "" : "AND coalesce(g.user_id, e.user_id) = ANY($3)")}
                """, conn);
            AddRange(cmd, from - policy.Lookback, to);
            if (!withOtherPaths) cmd.Parameters.Add(new() { Value = users });
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var user = reader.GetString(0);
                var at = reader.GetFieldValue<DateTimeOffset>(2);
                var touch = new Touchpoint(reader.IsDBNull(1) ? UnknownCampaign : reader.GetString(1), at, reader.GetString(3));
                if (!clicks.TryGetValue(user, out var list)) clicks[user] = list = [];
                list.Add(touch);
                if (at.UtcDateTime >= from)
                {
                    if (!inRange.TryGetValue(user, out var r)) inRange[user] = r = [];
                    r.Add(touch);
                }
            }
        }

        var converting = new HashSet<string>(users, StringComparer.Ordinal);
        var otherPaths = withOtherPaths
            ? inRange.Where(u => !converting.Contains(u.Key)).Select(u => CampaignPath.FromTouchpoints(u.Value, converted: false)).ToList()
            : [];
        return new MultiTouchInput(conversions, clicks, otherPaths, options);
    }

    /// <summary>Credits every conversion under one model and sums per campaign.</summary>
    public static ModelCredit Credit(MultiTouchInput input, IMultiTouchModel model)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(model);
        var credits = input.Conversions
            .Select(c => MultiTouchAttribution.Attribute(c.Conversion,
                input.ClicksByUser.TryGetValue(c.Conversion.UserId, out var clicks) ? clicks : [], model, input.Options))
            .ToList();
        var campaigns = credits.SelectMany(c => c.Credits)
            .GroupBy(c => c.CampaignId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CampaignShare(g.Key, g.Sum(c => c.Revenue), g.Sum(c => c.Share)))
            .ToList();
        return new ModelCredit(model.Name, campaigns, credits);
    }

    /// <summary>Gold's impression-level last click: each conversion wholly to its impression's campaign.</summary>
    public static ModelCredit GoldCredit(MultiTouchInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var campaigns = input.Conversions
            .GroupBy(c => c.GoldCampaignId, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CampaignShare(g.Key, g.Sum(c => c.Conversion.Revenue), g.Count()))
            .ToList();
        return new ModelCredit(GoldLastClick, campaigns, []);
    }

    /// <summary>Fits the Markov removal-effect model on the converting users' paths (touchpoints) and the others' click paths.</summary>
    public static MarkovChainModel FitDataDriven(MultiTouchInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var converting = input.Conversions.Select(c => CampaignPath.FromTouchpoints(
            MultiTouchAttribution.Touchpoints(c.Conversion,
                input.ClicksByUser.TryGetValue(c.Conversion.UserId, out var clicks) ? clicks : [], input.Options.Lookback),
            converted: true));
        return MarkovChainModel.Fit(converting.Concat(input.OtherPaths));
    }

    private static void AddRange(NpgsqlCommand cmd, DateTime from, DateTime to)
    {
        cmd.Parameters.Add(new() { Value = from, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = to, NpgsqlDbType = NpgsqlDbType.TimestampTz });
    }
}
