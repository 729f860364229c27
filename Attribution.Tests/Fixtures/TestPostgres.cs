using Attribution.Projections.Schema;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>The local PostgreSQL the test script starts; each test class gets a database of its own.</summary>
public static class TestPostgres
{
    public static string ServerConnectionString =>
        Environment.GetEnvironmentVariable("ATTRIBUTION_TEST_PG") ?? "Host=127.0.0.1;Port=55432;Username=postgres";

    /// <summary>A database of its own, already migrated: a copy of the run's template, which the service's own
    /// migrator built once (<see cref="Template"/>). The code under test still runs its migrator on it and finds
    /// nothing to do; tests of creating or migrating a database take <see cref="NewDatabaseName"/>.</summary>
    public static string NewDatabase(string prefix)
    {
        var name = UniqueName(prefix);
        using var conn = new NpgsqlConnection(Admin);
        conn.Open();
        // Names are ours (a prefix and a GUID), never user input; an identifier cannot be a parameter.
        using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\" TEMPLATE \"{Template.Value}\"", conn);
        cmd.ExecuteNonQuery();
        return ConnectionStringFor(name);
    }

    /// <summary>Only a name: the code under test creates the database and migrates it from nothing.</summary>
    public static string NewDatabaseName(string prefix) => ConnectionStringFor(UniqueName(prefix));

    private static string UniqueName(string prefix)
    {
        var name = $"t_{prefix.ToLowerInvariant()}_{Guid.NewGuid():N}";
        return name[..Math.Min(name.Length, 48)];
    }

    private static string ConnectionStringFor(string database, bool pooling = true) =>
        new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = database, MaxPoolSize = 40, Pooling = pooling }.ConnectionString;

    private static string Admin => ConnectionStringFor("postgres", pooling: false);

    /// <summary>One migrated database per test run, named after the run's process: every test database is copied
    /// from it (~0.2 s each) instead of running every migration (~0.6 s on a quiet machine, more under
    /// the suite's load). Built by the service's own migrator (schema only: seeding the attribution config and the
    /// fraud rules stays with each service start, which reads its own settings). Dropped when the run ends; a run
    /// killed before that leaves one behind, which the next run drops.</summary>
    private static readonly Lazy<string> Template = new(() =>
    {
        var name = $"t_template_{Environment.ProcessId}";
        DropTemplatesOfEndedRuns();
        // Unpooled: a copy fails while any session is connected to its template.
        var connectionString = ConnectionStringFor(name, pooling: false);
        Drop(connectionString);
        Task.Run(async () =>
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await SchemaMigrator.MigrateAsync(dataSource, NullLogger.Instance);
        }).GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            // A server already gone at exit leaves the template to the next run, which drops it.
            try
            {
                Drop(connectionString);
            }
            catch (NpgsqlException)
            {
            }
        };
        return name;
    });

    private static void DropTemplatesOfEndedRuns()
    {
        var leftovers = new List<string>();
        using (var conn = new NpgsqlConnection(Admin))
        {
            conn.Open();
            using var cmd = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datname LIKE 't\\_template\\_%'", conn);
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) leftovers.Add(reader.GetString(0));
        }

        foreach (var name in leftovers)
        {
            if (int.TryParse(name["t_template_".Length..], out var pid) && pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}"))
                Drop(ConnectionStringFor(name));
        }
    }

    public static void Drop(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        NpgsqlConnection.ClearAllPools();
        using var conn = new NpgsqlConnection(Admin);
        conn.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{target.Database}\" WITH (FORCE)", conn);
        cmd.ExecuteNonQuery();
    }
}

/// <summary>A migrated database of its own for one test class, the service's initializer run on it.</summary>
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
