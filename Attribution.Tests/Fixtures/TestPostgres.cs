using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>The local PostgreSQL the test script starts; each test class gets a database of its own.</summary>
public static class TestPostgres
{
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ATTRIBUTION_TEST_PG") ?? "Host=127.0.0.1;Port=55432;Username=postgres";

    public static string NewDatabase(string prefix)
    {
        var name = $"t_{prefix.ToLowerInvariant()}_{Guid.NewGuid():N}";
        name = name[..Math.Min(name.Length, 48)];
        var builder = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name, MaxPoolSize = 40 };
        return builder.ConnectionString;
    }

    public static void Drop(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = "postgres", Pooling = false };
        using var conn = new NpgsqlConnection(admin.ConnectionString);
        conn.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{target.Database}\" WITH (FORCE)", conn);
        cmd.ExecuteNonQuery();
    }
}

/// <summary>A database of its own for one test class, created and migrated by the code under test.</summary>
public sealed class DatabaseFixture : IDisposable
{
    public DatabaseFixture()
    {
        ConnectionString = TestPostgres.NewDatabase("db");
        Engine = EngineHost.MigrateAsync(ConnectionString).GetAwaiter().GetResult();
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource Engine { get; }

    public void Dispose()
    {
        Engine.Dispose();
        TestPostgres.Drop(ConnectionString);
    }
}
