using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Attribution.Projections.Users;

/// <summary>Configuration section "Audience".</summary>
public sealed class AudienceOptions
{
    /// <summary>How often the audience cube rebuilds the days that changed; 0 turns the refresh off (every audience
    /// query then reads Gold).</summary>
    public double RefreshSeconds { get; set; } = 60;
}

/// <summary>Refreshes the audience cube every Audience:RefreshSeconds. A failed refresh (PostgreSQL away) is logged and
/// tried again at the next tick: queries read the days it did not rebuild from Gold meanwhile.</summary>
public sealed class AudienceRefresher(AudienceCube cube, IOptions<AudienceOptions> options, ILogger<AudienceRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RefreshSeconds <= 0) return;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.RefreshSeconds)));
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await cube.RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    logger.LogWarning("Audience cube not refreshed ({Reason}); the days it holds stale are read from Gold until the next refresh", e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
