using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Campaigns;

/// <summary>Configuration section "Tracking", the part the landing-domain cache reads.</summary>
public sealed class LandingDomainOptions
{
    /// <summary>How often an instance reads the landing domains again, to see changes made through other instances.</summary>
    public double LandingDomainRefreshSeconds { get; set; } = 30;
}

/// <summary>Loads the landing-domain cache before the service takes requests, then reads it again every
/// Tracking:LandingDomainRefreshSeconds. A failed read (PostgreSQL away) keeps the cache as it is.</summary>
public sealed class LandingDomainRefresher(LandingDomainCache cache, IOptions<LandingDomainOptions> options, ILogger<LandingDomainRefresher> logger)
    : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(0.1, options.Value.LandingDomainRefreshSeconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await RefreshAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task RefreshAsync(CancellationToken ct)
    {
        try
        {
            // A change written here while the read ran makes it read again; three in a row wait for the next tick.
            for (var attempt = 1; attempt <= 3; attempt++)
            {
                if (await cache.RefreshAsync(ct)) return;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Clicks keep being checked against what is held; a campaign changed elsewhere meanwhile is seen at a later read.
            logger.LogWarning("Landing domains not refreshed ({Reason}); /click keeps the {State} ones", e.Message,
                cache.Loaded ? "last loaded" : "locally written");
        }
    }
}
