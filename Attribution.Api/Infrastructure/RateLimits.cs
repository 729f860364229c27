using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Attribution.Api.Infrastructure;

/// <summary>Configuration section "RateLimits".</summary>
public sealed class RateLimitOptions
{
    /// <summary>Requests per minute one client address may make to the query and admin endpoints.</summary>
    public int QueryPerMinute { get; set; } = 600;

    /// <summary>Refused credentials (401/403 answers of endpoints that check them) per minute one client address may
    /// collect; past them, those endpoints answer 429 until the minute is over.</summary>
    public int AuthFailuresPerMinute { get; set; } = 20;
}

/// <summary>Marks an endpoint that checks credentials (the admin key, an ingest signature): a client address that
/// has collected too many refusals gets 429 there instead of another guess.</summary>
public sealed class RequiresCredentials
{
    public static readonly RequiresCredentials Instance = new();
}

/// <summary>
/// Per client address (after X-Forwarded-For from trusted proxies, <see cref="ClientAddress"/>): a fixed window of
/// requests on the query and admin endpoints, and of refused credentials everywhere. Tracking endpoints are not limited
/// per address (carrier NATs put many users behind one; a flood is a fraud signal, not an error): they shed load with
/// 503 when the spool is saturated instead (Ingest:MaxPendingAppends).
/// </summary>
public static class RateLimits
{
    /// <summary>The policy of the query and admin endpoints.</summary>
    public const string PerClient = "per-client";

    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    public static IServiceCollection AddAttributionRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<RateLimitOptions>(configuration.GetSection("RateLimits"));
        services.AddSingleton<AuthFailureLimiter>();
        services.AddRateLimiter(o => o.AddPolicy<string, PerClientPolicy>(PerClient));
        return services;
    }

    public static WebApplication UseAttributionRateLimits(this WebApplication app)
    {
        app.UseRateLimiter();
        app.Use(async (http, next) =>
        {
            // Only endpoints that check credentials answer 401/403: the tracking path pays nothing here.
            if (http.GetEndpoint()?.Metadata.GetMetadata<RequiresCredentials>() is null)
            {
                await next(http);
                return;
            }

            var limiter = http.RequestServices.GetRequiredService<AuthFailureLimiter>();
            var client = ClientAddress.Of(http);
            if (limiter.IsExhausted(client, out var retryAfter))
            {
                await TooManyAsync(http, retryAfter, "Too many refused credentials",
                    "This address sent too many requests with missing or wrong credentials in the last minute (RateLimits:AuthFailuresPerMinute).");
                return;
            }

            http.Response.OnStarting(() =>
            {
                if (http.Response.StatusCode is StatusCodes.Status401Unauthorized or StatusCodes.Status403Forbidden) limiter.Refused(client);
                return Task.CompletedTask;
            });
            await next(http);
        });
        return app;
    }

    public static async Task TooManyAsync(HttpContext http, TimeSpan retryAfter, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = new ProblemDetails { Status = 429, Title = title, Detail = detail, Type = "https://www.rfc-editor.org/rfc/rfc6585#section-4" },
        });
    }

    /// <summary>Requests per client address per minute on the query and admin endpoints.</summary>
    private sealed class PerClientPolicy(IOptions<RateLimitOptions> options) : IRateLimiterPolicy<string>
    {
        public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected { get; } = async (context, _) =>
        {
            var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : Window;
            await TooManyAsync(context.HttpContext, retryAfter, "Too many requests",
                $"This address made more than {options.Value.QueryPerMinute} requests to the query and admin endpoints in a minute (RateLimits:QueryPerMinute).");
        };

        public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
            RateLimitPartition.GetFixedWindowLimiter(ClientAddress.Of(httpContext), _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = Math.Max(1, options.Value.QueryPerMinute),
                Window = Window,
                QueueLimit = 0,
            });
    }
}

/// <summary>Refused credentials per client address, in a fixed window of a minute.</summary>
public sealed class AuthFailureLimiter(IOptions<RateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _refusals = PartitionedRateLimiter.Create<string, string>(client =>
        RateLimitPartition.GetFixedWindowLimiter(client, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = Math.Max(1, options.Value.AuthFailuresPerMinute),
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        }));

    /// <summary>Whether the address has used up its refusals for this window, and until when at most.</summary>
    public bool IsExhausted(string client, out TimeSpan retryAfter)
    {
        // Asking for no permit takes nothing and fails only when none is left.
        using var lease = _refusals.AttemptAcquire(client, 0);
        retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromMinutes(1);
        return !lease.IsAcquired;
    }

    public void Refused(string client)
    {
        using var lease = _refusals.AttemptAcquire(client);
    }

    public void Dispose() => _refusals.Dispose();
}
