using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Attribution.Projections.Ingest;

/// <summary>
/// Keeps <see cref="IngestKeyRing"/> equal to the ingest keys in PostgreSQL: loads them before the service takes
/// requests, reloads whenever a change is notified (LISTEN) and every Ingest:KeyRefreshSeconds in case a notification
/// was missed, and writes when keys were last used. While PostgreSQL is away the keys last loaded keep verifying.
/// </summary>
public sealed class IngestKeyRefresher(
    NpgsqlDataSource db, IngestKeyStore store, IngestKeyRing ring, IOptions<IngestOptions> options, ILogger<IngestKeyRefresher> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the first request: a key made through the API verifies right after a restart.
        await using (var conn = await db.OpenConnectionAsync(cancellationToken))
            await ReloadAsync(conn, cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var conn = await db.OpenConnectionAsync(cancellationToken);
            await WriteUsesAsync(conn, cancellationToken);
        }
        catch (Exception e) when (PostgresOutage.IsUnavailable(e))
        {
            logger.LogWarning("Could not write when ingest keys were last used at shutdown: PostgreSQL is unavailable");
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromSeconds(Math.Max(1, options.Value.KeyRefreshSeconds));
        var pause = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand($"LISTEN {IngestKeyStore.Channel}", conn))
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                await ReloadAsync(conn, stoppingToken);
                pause = TimeSpan.FromSeconds(1);
                while (!stoppingToken.IsCancellationRequested)
                {
                    // True when a notification came; either way the keys are read again.
                    await conn.WaitAsync(every, stoppingToken);
                    await ReloadAsync(conn, stoppingToken);
                    await WriteUsesAsync(conn, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Whatever went wrong, the keys loaded last keep verifying and the refresh is tried again.
                if (PostgresOutage.IsUnavailable(e))
                    logger.LogWarning("Ingest keys cannot be refreshed: PostgreSQL is unavailable; the keys loaded last keep verifying. Retrying in {Seconds} s", pause.TotalSeconds);
                else
                    logger.LogError(e, "Ingest keys could not be refreshed; the keys loaded last keep verifying. Retrying in {Seconds} s", pause.TotalSeconds);
                await Task.Delay(pause, stoppingToken);
                pause = TimeSpan.FromSeconds(Math.Min(30, pause.TotalSeconds * 2));
            }
        }
    }

    /// <summary>A read overtaken by this instance's own change is read again (three times at most; the next
    /// notification or interval then reads once more).</summary>
    private async Task ReloadAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var before = ring.LocalChanges;
            if (ring.Replace(await store.LoadAsync(conn, ct), before)) return;
        }
    }

    private async Task WriteUsesAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        var uses = ring.TakeUses();
        try
        {
            await store.RecordUsesAsync(conn, uses, ct);
        }
        catch
        {
            ring.Return(uses);
            throw;
        }
    }
}
