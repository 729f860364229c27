using System.Data.Common;
using Attribution.Domain.Billing;
using Attribution.Domain.Campaigns;
using Attribution.Domain.Dimensions;
using Attribution.Projections.Dimensions;
using Attribution.Domain.Tracking;
using Npgsql;
using NpgsqlTypes;

using Scd2Write = Attribution.Domain.Dimensions.Scd2Write<Attribution.Domain.Campaigns.CampaignVersion>;
using Scd2Decision = Attribution.Domain.Dimensions.Scd2Decision<Attribution.Domain.Campaigns.CampaignVersion, Attribution.Domain.Campaigns.CampaignChange>;

namespace Attribution.Projections.Campaigns;

/// <summary>What one direct change did to a campaign.</summary>
public sealed record CampaignChangeOutcome(Scd2Decision Decision, CampaignVersion? Current);

/// <summary>What one SCD2 merge of the staged batch did.</summary>
/// <param name="Staged">Staged rows the merge took.</param>
/// <param name="Opened">Versions inserted.</param>
/// <param name="Closed">Versions that stopped being current (or were closed again within the batch).</param>
/// <param name="Corrected">Current versions corrected in place (a change at the very instant they start).</param>
/// <param name="Rejected">Changes that were not applied; each is kept in dim_campaigns_rejections with its reason.</param>
public sealed record Scd2MergeCounts(int Staged, int Opened, int Closed, int Corrected, int Rejected, IReadOnlyList<string> Rejections);

/// <summary>dim_campaigns: reads, direct changes and the SCD2 merge of staged batch changes. Every committed write is
/// handed to this instance's landing-domain cache at once, so /click here sees it on the next request.</summary>
public sealed class CampaignDimension(NpgsqlDataSource dataSource, LandingDomainCache landingDomains)
{
    /// <summary>Every writer of dim_campaigns takes this lock, so a direct change and a merge never interleave.</summary>
    public const long WriteLock = 0x4174_7472_0010;

    private const string Columns = "campaign_key, campaign_id, name, budget_amount, budget_type, status, start_ts, end_ts, is_current, landing_domains, billing_model, cpc_rate";

    public async Task<CampaignVersion?> CurrentAsync(string campaignId, CancellationToken ct) =>
        (await ReadAsync("WHERE campaign_id = $1 AND is_current", [campaignId], ct)).SingleOrDefault();

    /// <summary>Every version of the campaign, oldest first.</summary>
    public Task<List<CampaignVersion>> HistoryAsync(string campaignId, CancellationToken ct) =>
        ReadAsync("WHERE campaign_id = $1 ORDER BY start_ts", [campaignId], ct);

    public Task<List<CampaignVersion>> AllCurrentAsync(CancellationToken ct) =>
        ReadAsync("WHERE is_current ORDER BY campaign_id", [], ct);

    public Task<List<CampaignVersion>> AllVersionsAsync(CancellationToken ct) =>
        ReadAsync("ORDER BY campaign_id, start_ts", [], ct);

    /// <summary>The versions in force at some instant of [from, to), of one campaign or all, by campaign then start:
    /// what a bill of that range has a line for.</summary>
    internal static Task<List<CampaignVersion>> InForceAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, DateTimeOffset from, DateTimeOffset to, string? campaignId, CancellationToken ct) =>
        ReadAsync(conn, tx, $"""
            SELECT {Columns} FROM dim_campaigns
            WHERE start_ts < $1 AND end_ts > $2 AND ($3::text IS NULL OR campaign_id = $3)
            ORDER BY campaign_id, start_ts
            """, [to, from, (object?)campaignId ?? DBNull.Value], ct);

    /// <summary>The versions that have not ended (the current ones, and those a future-dated current one will close):
    /// what the landing-domain cache holds.</summary>
    internal static async Task<List<CampaignVersion>> UnendedVersionsAsync(NpgsqlDataSource dataSource, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, $"SELECT {Columns} FROM dim_campaigns WHERE end_ts > now()", [], ct);
    }

    /// <summary>
    /// Applies one change now: closes the current version and opens a new one atomically, corrects it in place, or
    /// does nothing when the change repeats what is current. A rejected change writes nothing.
    /// </summary>
    public async Task<CampaignChangeOutcome> ChangeAsync(CampaignChange change, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(change);
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var current = (await ReadAsync(conn, tx, $"SELECT {Columns} FROM dim_campaigns WHERE campaign_id = $1 AND is_current", [change.CampaignId], ct))
            .SingleOrDefault();
        var keys = await AllocateKeysAsync(conn, tx, 1, ct);
        var decision = CampaignScd2.Decide(current, change, keys.Dequeue);
        IReadOnlyList<Scd2Write> writes = decision switch
        {
            Scd2Decision.Created c => [new(Scd2WriteKind.Open, c.Version)],
            Scd2Decision.Superseded s => [new(Scd2WriteKind.Close, s.Closed), new(Scd2WriteKind.Open, s.Opened)],
            Scd2Decision.Corrected c => [new(Scd2WriteKind.Correct, c.After)],
            _ => [],
        };
        await WriteAsync(conn, tx, writes, ct);
        await tx.CommitAsync(ct);
        landingDomains.Apply(writes.Select(w => w.Row));
        var now = decision switch
        {
            Scd2Decision.Created c => c.Version,
            Scd2Decision.Superseded s => s.Opened,
            Scd2Decision.Corrected c => c.After,
            Scd2Decision.Unchanged u => u.Current,
            _ => current,
        };
        return new CampaignChangeOutcome(decision, now);
    }

    /// <summary>Stages changes for the next merge; returns their staging ids in input order.</summary>
    public async Task<List<long>> StageAsync(IReadOnlyList<CampaignChange> changes, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var ids = new List<long>(changes.Count);
        if (changes.Count == 0) return ids;
        await using var cmd = dataSource.CreateCommand("""
            INSERT INTO dim_campaigns_staging (campaign_id, effective_at, name, budget_amount, budget_type, status, landing_domains, billing_model, cpc_rate)
            SELECT campaign_id, effective_at, name, budget_amount, budget_type, status, string_to_array(landing_domains, ','), billing_model, cpc_rate
            FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[], $8::text[], $9::numeric[]) WITH ORDINALITY
                 AS s(campaign_id, effective_at, name, budget_amount, budget_type, status, landing_domains, billing_model, cpc_rate, n)
            ORDER BY n
            RETURNING staging_id
            """);
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.CampaignId).ToArray() });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.EffectiveAt.ToUniversalTime()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.Name).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BudgetAmount).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BudgetType).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.Status?.ToCode()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => Joined(c.LandingDomains)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BillingModel?.ToCode()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.CpcRate).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) ids.Add(reader.GetInt64(0));
        return ids;
    }

    /// <summary>
    /// The scheduled SCD2 MERGE: takes every staged change and applies them as one merge in one transaction (changes
    /// staged while it runs wait for the next one). Rejected changes are kept in dim_campaigns_rejections.
    /// </summary>
    public async Task<Scd2MergeCounts> MergeStagedAsync(CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await LockAsync(conn, tx, ct);
        var staged = new List<CampaignChange>();
        await using (var take = new NpgsqlCommand("""
            DELETE FROM dim_campaigns_staging
            RETURNING staging_id, campaign_id, effective_at, name, budget_amount, budget_type, status, landing_domains, billing_model, cpc_rate
            """, conn, tx))
        await using (var reader = await take.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                CampaignStatus? status = null;
                if (!reader.IsDBNull(6))
                {
                    status = CampaignStatusCodes.TryParse(reader.GetString(6), out var s)
                        ? s : throw new InvalidDataException($"staged change {reader.GetInt64(0)} has status {reader.GetString(6)}");
                }

                var domains = reader.IsDBNull(7) ? null : ReadLandingDomains(reader, 7, $"staged change {reader.GetInt64(0)}");
                var model = reader.IsDBNull(8) ? (BillingModel?)null : ReadBillingModel(reader, 8, $"staged change {reader.GetInt64(0)}");
                staged.Add(new CampaignChange(reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetDecimal(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5), status, Sequence: reader.GetInt64(0), LandingDomains: domains,
                    BillingModel: model, CpcRate: reader.IsDBNull(9) ? null : reader.GetDecimal(9)));
            }
        }

        if (staged.Count == 0)
        {
            await tx.CommitAsync(ct);
            return new Scd2MergeCounts(0, 0, 0, 0, 0, []);
        }

        var ids = staged.Select(s => s.CampaignId).Distinct(StringComparer.Ordinal).ToArray();
        var current = await ReadAsync(conn, tx, $"SELECT {Columns} FROM dim_campaigns WHERE is_current AND campaign_id = ANY($1)", [ids], ct);
        var keys = await AllocateKeysAsync(conn, tx, staged.Count, ct);
        var result = CampaignScd2.Merge(current, staged, keys.Dequeue);
        await WriteAsync(conn, tx, result.Writes, ct);
        await RecordRejectionsAsync(conn, tx, result.Rejections, ct);
        await tx.CommitAsync(ct);
        landingDomains.Apply(result.Writes.Select(w => w.Row));
        return new Scd2MergeCounts(staged.Count,
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Open),
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Close) + result.Writes.Count(w => w.Kind == Scd2WriteKind.Open && !w.Row.IsCurrent),
            result.Writes.Count(w => w.Kind == Scd2WriteKind.Correct),
            result.Rejections.Count,
            result.Rejections.Select(r => $"{r.Change.CampaignId} at {r.Change.EffectiveAt:O} (staging id {r.Change.Sequence}): {r.Reason}").ToList());
    }

    private static Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct) =>
        DimensionWrites.LockAsync(conn, tx, WriteLock, ct);

    private static Task<Queue<long>> AllocateKeysAsync(NpgsqlConnection conn, NpgsqlTransaction tx, int count, CancellationToken ct) =>
        DimensionWrites.AllocateKeysAsync(conn, tx, "dim_campaigns_key_seq", count, ct);

    /// <summary>Closes and corrections first, then opens: at no point do two versions overlap or two rows claim to be current.</summary>
    private static async Task WriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<Scd2Write> writes, CancellationToken ct)
    {
        if (writes.Count == 0) return;
        var merge = await DimensionMerge.NextAsync(conn, tx, ct);
        var updates = writes.Where(w => w.Kind != Scd2WriteKind.Open).Select(w => w.Row).ToList();
        var opens = writes.Where(w => w.Kind == Scd2WriteKind.Open).Select(w => w.Row).ToList();
        if (updates.Count > 0)
        {
            await using var update = new NpgsqlCommand("""
                UPDATE dim_campaigns d SET name = u.name, budget_amount = u.budget_amount, budget_type = u.budget_type,
                       status = u.status, start_ts = u.start_ts, end_ts = u.end_ts, is_current = u.is_current,
                       landing_domains = string_to_array(u.landing_domains, ','), billing_model = u.billing_model, cpc_rate = u.cpc_rate,
                       merge_seq = $11
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::timestamptz[],
                            $8::timestamptz[], $9::boolean[], $10::text[], $12::text[], $13::numeric[])
                     AS u(campaign_key, campaign_id, name, budget_amount, budget_type, status, start_ts, end_ts, is_current, landing_domains,
                          billing_model, cpc_rate)
                WHERE d.campaign_key = u.campaign_key AND d.campaign_id = u.campaign_id
                """, conn, tx);
            Bind(update, updates, merge);
            var n = await update.ExecuteNonQueryAsync(ct);
            if (n != updates.Count) throw new InvalidOperationException($"dim_campaigns changed under the SCD2 write: {n} of {updates.Count} rows updated");
        }

        if (opens.Count > 0)
        {
            await using var insert = new NpgsqlCommand($"""
                INSERT INTO dim_campaigns ({Columns}, merge_seq)
                SELECT campaign_key, campaign_id, name, budget_amount, budget_type, status, start_ts, end_ts, is_current,
                       string_to_array(landing_domains, ','), billing_model, cpc_rate, $11
                FROM unnest($1::bigint[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[],
                            $7::timestamptz[], $8::timestamptz[], $9::boolean[], $10::text[], $12::text[], $13::numeric[])
                     AS u(campaign_key, campaign_id, name, budget_amount, budget_type, status, start_ts, end_ts, is_current, landing_domains,
                          billing_model, cpc_rate)
                """, conn, tx);
            Bind(insert, opens, merge);
            await insert.ExecuteNonQueryAsync(ct);
        }
    }

    private static void Bind(NpgsqlCommand cmd, List<CampaignVersion> rows, long merge)
    {
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.CampaignKey).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.CampaignId).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Name).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.BudgetAmount).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.BudgetType).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.Status.ToCode()).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.StartTs).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.EndTs).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.IsCurrent).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => Joined(r.LandingDomains)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = merge });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.BillingModel.ToCode()).ToArray() });
        cmd.Parameters.Add(new() { Value = rows.Select(r => r.CpcRate).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
    }

    // A list per row cannot ride in unnest (PostgreSQL arrays of arrays are rectangular and unnest flattens them), so
    // each list travels as one comma-joined text, split again by string_to_array ('' is the empty list). Entries are
    // host names or "*." wildcards, which hold no comma.
    private static string? Joined(LandingDomains? domains) => domains is null ? null : string.Join(',', domains.Entries);

    private static LandingDomains ReadLandingDomains(DbDataReader r, int ordinal, string row) =>
        LandingDomains.TryParse(r.GetFieldValue<string[]>(ordinal), out var domains, out var error)
            ? domains
            : throw new InvalidDataException($"{row} has landing_domains that do not parse: {error}");

    private static BillingModel ReadBillingModel(DbDataReader r, int ordinal, string row) =>
        BillingModels.TryParse(r.GetString(ordinal), out var model)
            ? model
            : throw new InvalidDataException($"{row} has billing_model {r.GetString(ordinal)}");

    private static async Task RecordRejectionsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, IReadOnlyList<Scd2Decision.Rejected> rejections, CancellationToken ct)
    {
        if (rejections.Count == 0) return;
        await using var cmd = new NpgsqlCommand("""
            INSERT INTO dim_campaigns_rejections (staging_id, campaign_id, effective_at, name, budget_amount, budget_type, status, reason, landing_domains,
                                                  billing_model, cpc_rate)
            SELECT staging_id, campaign_id, effective_at, name, budget_amount, budget_type, status, reason, string_to_array(landing_domains, ','),
                   billing_model, cpc_rate
            FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::numeric[], $6::text[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::numeric[])
                 AS r(staging_id, campaign_id, effective_at, name, budget_amount, budget_type, status, reason, landing_domains, billing_model, cpc_rate)
            """, conn, tx);
        var changes = rejections.Select(r => r.Change).ToList();
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.Sequence).ToArray() });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.CampaignId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.EffectiveAt.ToUniversalTime()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.Name).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BudgetAmount).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BudgetType).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.Status?.ToCode()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = rejections.Select(r => r.Reason).ToArray() });
        cmd.Parameters.Add(new() { Value = changes.Select(c => Joined(c.LandingDomains)).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.BillingModel?.ToCode()).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        cmd.Parameters.Add(new() { Value = changes.Select(c => c.CpcRate).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Numeric });
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<List<CampaignVersion>> ReadAsync(string where, object[] args, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        return await ReadAsync(conn, null, $"SELECT {Columns} FROM dim_campaigns {where}", args, ct);
    }

    private static Task<List<CampaignVersion>> ReadAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, object[] args, CancellationToken ct) =>
        DimensionReads.RowsAsync(conn, tx, sql, args, Read, ct);

    private static CampaignVersion Read(DbDataReader r)
    {
        if (!CampaignStatusCodes.TryParse(r.GetString(5), out var status))
            throw new InvalidDataException($"dim_campaigns row {r.GetInt64(0)} has status {r.GetString(5)}");
        return new CampaignVersion(r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetDecimal(3), r.GetString(4), status,
            r.GetFieldValue<DateTimeOffset>(6), r.GetFieldValue<DateTimeOffset>(7), r.GetBoolean(8))
        {
            LandingDomains = ReadLandingDomains(r, 9, $"dim_campaigns row {r.GetInt64(0)}"),
            BillingModel = ReadBillingModel(r, 10, $"dim_campaigns row {r.GetInt64(0)}"),
            CpcRate = r.IsDBNull(11) ? null : r.GetDecimal(11),
        };
    }
}
