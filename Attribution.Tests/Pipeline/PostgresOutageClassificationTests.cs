using System.Net.Sockets;
using Attribution.Projections;
using Npgsql;

namespace Attribution.Tests.Pipeline;

/// <summary>What counts as "PostgreSQL is away" (the consumer waits, the API answers 503) and what stays a failure.</summary>
public sealed class PostgresOutageClassificationTests
{
    private static PostgresException Server(string sqlState) => new("message", "FATAL", "FATAL", sqlState);

    public static TheoryData<string, Exception> Outages => new()
    {
        { "connection refused", new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused)) },
        { "connection broken mid-query", new NpgsqlException("Exception while reading from stream", new EndOfStreamException()) },
        { "connection reset", new NpgsqlException("Exception while reading from stream", new IOException("reset", new SocketException((int)SocketError.ConnectionReset))) },
        { "pool or command timeout", new NpgsqlException("The connection pool has been exhausted", new TimeoutException()) },
        { "57P01 admin shutdown", Server(PostgresErrorCodes.AdminShutdown) },
        { "57P02 crash shutdown", Server(PostgresErrorCodes.CrashShutdown) },
        { "57P03 cannot connect now", Server(PostgresErrorCodes.CannotConnectNow) },
        { "08006 connection failure", Server(PostgresErrorCodes.ConnectionFailure) },
        { "53300 too many connections", Server(PostgresErrorCodes.TooManyConnections) },
        { "wrapped by a caller", new InvalidOperationException("reading offsets", new NpgsqlException("Failed to connect", new SocketException((int)SocketError.ConnectionRefused))) },
    };

    public static TheoryData<string, Exception> Failures => new()
    {
        { "undefined table (a bug)", Server(PostgresErrorCodes.UndefinedTable) },
        { "syntax error (a bug)", Server(PostgresErrorCodes.SyntaxError) },
        { "unique violation", Server(PostgresErrorCodes.UniqueViolation) },
        { "invalid text representation", Server(PostgresErrorCodes.InvalidTextRepresentation) },
        // Transient for Npgsql, but a concurrent writer's doing: the applier retries it at once, the API does not hide it.
        { "serialization failure", Server(PostgresErrorCodes.SerializationFailure) },
        { "deadlock", Server(PostgresErrorCodes.DeadlockDetected) },
        { "query canceled", Server(PostgresErrorCodes.QueryCanceled) },
        { "Npgsql error without a cause", new NpgsqlException("something else") },
        { "not PostgreSQL at all", new InvalidOperationException("a bug") },
        { "a null dereference", new NullReferenceException() },
        { "a bare socket error elsewhere", new HttpRequestException("kafka", new SocketException((int)SocketError.ConnectionRefused)) },
    };

    [Theory]
    [MemberData(nameof(Outages))]
    public void An_unreachable_or_stopping_PostgreSQL_is_an_outage(string what, Exception e) =>
        Assert.True(PostgresOutage.IsUnavailable(e), what);

    [Theory]
    [MemberData(nameof(Failures))]
    public void Anything_else_stays_a_failure(string what, Exception e) =>
        Assert.False(PostgresOutage.IsUnavailable(e), what);

    [Fact]
    public void An_outage_is_described_in_one_line_without_the_detail_block()
    {
        var refused = new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused));
        Assert.Equal("Failed to connect to 127.0.0.1:5432: Connection refused", PostgresOutage.Describe(refused));
        Assert.Equal("57P03: the database system is starting up",
            PostgresOutage.Describe(new PostgresException("the database system is starting up", "FATAL", "FATAL", PostgresErrorCodes.CannotConnectNow)));
    }
}
