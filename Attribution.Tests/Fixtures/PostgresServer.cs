using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Attribution.Tests.Fixtures;

/// <summary>
/// A PostgreSQL server of its own (Debian's PostgreSQL 15, as scripts/setup.sh uses) on a free port, with its data in
/// a temporary folder: for a test that stops PostgreSQL, which it may not do to the server every other class shares.
/// Run as root, the server runs as user postgres (it refuses root); otherwise as the current user.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly DirectoryInfo _folder;
    private readonly string _data;

    public PostgresServer()
    {
        Assert.True(File.Exists(Path.Combine(Bin, "initdb")),
            $"This test runs a PostgreSQL server of its own and needs {Bin}/initdb: apt-get install -y postgresql, or run scripts/setup.sh");
        Port = FreePort();
        _folder = Directory.CreateTempSubdirectory("attribution-pg-");
        _data = Path.Combine(_folder.FullName, "data");
        if (IsRoot) Run("chown", "postgres:postgres", _folder.FullName);
        AsServerUser($"{Bin}/initdb -D '{_data}' -A trust -U postgres -E UTF8 >/dev/null");
        // fsync off: the test stops the server (immediate: no checkpoint, like a crash), never the machine, and what a
        // commit wrote is in the kernel's page cache either way.
        File.AppendAllText(Path.Combine(_data, "postgresql.conf"), string.Create(CultureInfo.InvariantCulture, $"""

            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{_folder.FullName}'
            max_connections = 100
            fsync = off
            """));
        Start();
    }

    public int Port { get; }

    /// <summary>The server's connection string, without a database.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres";

    /// <summary>A connection string to a database of the given name on this server (the service creates it).</summary>
    public string Database(string name) => new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name }.ConnectionString;

    public void Start() => AsServerUser($"{Bin}/pg_ctl -D '{_data}' -l '{_folder.FullName}/server.log' -w start >/dev/null");

    /// <summary>Starts the server unless it runs: each test begins with it up, whatever the one before left.</summary>
    public void EnsureRunning()
    {
        if (!File.Exists(Path.Combine(_data, "postmaster.pid"))) Start();
    }

    /// <summary>Stops the server at once, without a checkpoint and dropping every connection: as if it had crashed.</summary>
    public void Kill() => AsServerUser($"{Bin}/pg_ctl -D '{_data}' -m immediate -w stop >/dev/null");

    /// <summary>The server's log, for a failure message.</summary>
    public string Log
    {
        get
        {
            var log = Path.Combine(_folder.FullName, "server.log");
            return File.Exists(log) ? File.ReadAllText(log) : "";
        }
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(Path.Combine(_data, "postmaster.pid"))) Kill();
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            _folder.Delete(recursive: true);
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static void AsServerUser(string command)
    {
        if (IsRoot) Run("su", "postgres", "-s", "/bin/sh", "-c", command);
        else Run("/bin/sh", "-c", command);
    }

    private static void Run(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {process.ExitCode}: {error}{output.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
