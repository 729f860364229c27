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

    /// <summary>The most of one PostgreSQL core the refresh may take: after a refresh that took T, the next waits at
    /// least T × (1 − share) ÷ share (a day is rebuilt whole, so a busy day of millions of impressions takes a minute).
    /// The hours changed since the last refresh are read from Gold meanwhile.</summary>
    public double MaxBusyShare { get; set; } = 0.1;
}

/// <summary>Refreshes the audience cube every Audience:RefreshSeconds, or less often when a refresh takes long
/// (Audience:MaxBusyShare). A failed refresh (PostgreSQL away) is logged and
/// tried again at the next tick: queries read the days it did not rebuild from Gold meanwhile.</summary>
public sealed class AudienceRefresher(AudienceCube cube, IOptions<AudienceOptions> options, ILogger<AudienceRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.RefreshSeconds <= 0) return;
        var every = TimeSpan.FromSeconds(Math.Max(1, options.Value.RefreshSeconds));
        var share = Math.Clamp(options.Value.MaxBusyShare, 0.01, 1);
        var wait = every;
        try
        {
            while (true)
            {
                await Task.Delay(wait, stoppingToken);
                wait = every;
                try
                {
                    var refresh = await cube.RefreshAsync(stoppingToken);
                    var rest = refresh.Took * ((1 - share) / share);
                    if (rest > wait) wait = rest;
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
