using Npgsql;

namespace Attribution.Projections;

/// <summary>
/// Tells "PostgreSQL is not there right now" apart from everything else, so that callers wait and try again (the
/// consumer), or answer 503 with Retry-After (the API), while a genuine bug still fails loudly.
/// </summary>
public static class PostgresOutage
{
    /// <summary>True when the exception, or one it wraps, says PostgreSQL cannot be reached or is not taking
    /// connections: a refused or broken connection, the pool's or a command's timeout, the server shutting down or
    /// starting up (SQLSTATE 57P01-57P03), a connection exception (class 08), or too many connections (53300).</summary>
    public static bool IsUnavailable(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                // A server answer is judged by its SQLSTATE only: Npgsql's IsTransient also says yes to serialization
                // failures and deadlocks, which are a concurrent writer's doing, not an outage.
                case PostgresException p:
                    return p.SqlState.StartsWith("08", StringComparison.Ordinal)
                           || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
                               or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections;
                // No answer from the server: Npgsql marks a socket, stream or timeout failure underneath as transient.
                case NpgsqlException n:
                    return n.IsTransient;
            }
        }

        return false;
    }

    /// <summary>One line for a warning: each wrapped message (a refused socket under "Failed to connect"), and a
    /// server's answer by its SQLSTATE and text, without the detail block Npgsql appends.</summary>
    public static string Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var parts = new List<string>();
        for (var e = exception; e is not null; e = e.InnerException)
            parts.Add(e is PostgresException p ? $"{p.SqlState}: {p.MessageText}" : e.Message);
        return string.Join(": ", parts.Distinct(StringComparer.Ordinal));
    }
}
