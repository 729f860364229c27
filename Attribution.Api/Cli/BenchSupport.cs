using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Attribution.Api.Health;
using Attribution.Api.Infrastructure;
using Attribution.Api.Tracking;
using Attribution.Projections.Schema;
using Npgsql;

namespace Attribution.Api.Cli;

/// <summary>Options of the bench verb: --name value pairs.</summary>
internal sealed class BenchOptions
{
    private readonly Dictionary<string, string> _values;

    private BenchOptions(Dictionary<string, string> values) => _values = values;

    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"unexpected argument '{args[i]}'");
            var name = args[i][2..];
            if (i + 1 >= args.Length) throw new ArgumentException($"--{name} needs a value");
            values[name] = args[++i];
        }

        return new BenchOptions(values);
    }

    public IEnumerable<string> Names => _values.Keys;

    public string String(string name, string fallback) => _values.GetValueOrDefault(name, fallback);

    public long Long(string name, long fallback) => !_values.TryGetValue(name, out var v) ? fallback
        : long.TryParse(v.Replace("_", "", StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n
        : throw new ArgumentException($"--{name} must be a positive integer, got '{v}'");

    public int Int(string name, int fallback) => checked((int)Long(name, fallback));

    public double Double(string name, double fallback) => !_values.TryGetValue(name, out var v) ? fallback
        : double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d > 0 ? d
        : throw new ArgumentException($"--{name} must be a positive number, got '{v}'");
}

/// <summary>Scratch databases on the benchmark's PostgreSQL server, created migrated and dropped after.</summary>
internal sealed class BenchDatabase : IAsyncDisposable
{
    private readonly string _server;
    private readonly bool _keep;

    private BenchDatabase(string server, string connectionString, bool keep)
    {
        _server = server;
        ConnectionString = connectionString;
        _keep = keep;
        DataSource = NpgsqlDataSource.Create(connectionString);
    }

    public string ConnectionString { get; }

    public NpgsqlDataSource DataSource { get; }

    public string Name => new NpgsqlConnectionStringBuilder(ConnectionString).Database!;

    public static async Task<BenchDatabase> CreateAsync(string server, string purpose, bool keep, CancellationToken ct)
    {
        var builder = new NpgsqlConnectionStringBuilder(server)
        {
            Database = $"bench_{purpose}_{DateTime.UtcNow:yyyyMMddHHmmss}",
            MaxPoolSize = 60,
            CommandTimeout = 0,
        };
        await SchemaMigrator.EnsureDatabaseAsync(builder.ConnectionString, ct);
        var db = new BenchDatabase(server, builder.ConnectionString, keep);
        await SchemaMigrator.MigrateAsync(db.DataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, ct);
        return db;
    }

    public async Task<long> ScalarAsync(string sql, CancellationToken ct = default)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);
    }

    public async Task ExecAsync(string sql, CancellationToken ct = default)
    {
        await using var cmd = DataSource.CreateCommand(sql);
        cmd.CommandTimeout = 0;
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        await DataSource.DisposeAsync();
        if (_keep) return;
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(_server) { Database = "postgres", Pooling = false };
        await using var conn = new NpgsqlConnection(admin.ConnectionString);
        await conn.OpenAsync();
        // The name is ours (bench_<purpose>_<timestamp>), never user input.
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)", conn);
        await cmd.ExecuteNonQueryAsync();
    }
}

/// <summary>The service as its own process (the full Program, as deployed), for the HTTP, query and soak parts.</summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;

    private readonly string _warehouse;

    private ServiceProcess(Process process, Uri url, string log, string warehouse)
    {
        _process = process;
        Url = url;
        LogPath = log;
        _warehouse = warehouse;
    }

    public Uri Url { get; }

    public string LogPath { get; }

    public int Pid => _process.Id;

    public static async Task<ServiceProcess> StartAsync(string connectionString, IDictionary<string, string> settings, string readyPath, CancellationToken ct)
    {
        var port = FreePort();
        var dll = typeof(ServiceProcess).Assembly.Location;
        var host = Environment.ProcessPath ?? "dotnet";
        var info = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // Started as `dotnet Attribution.Api.dll` the host is dotnet; started through the apphost it is the app itself.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase)) info.ArgumentList.Add(dll);
        info.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ConnectionStrings__Postgres"] = connectionString;
        info.Environment["Logging__LogLevel__Default"] = "Warning";
        // A warehouse of its own: one left by an earlier run holds marks this fresh database has not reached, so the
        // exports would refuse it (TableExporter) and the run would measure a service that exports nothing.
        var warehouse = Path.Combine(Path.GetTempPath(), $"attribution-bench-warehouse-{Guid.NewGuid():N}");
        info.Environment["Lakehouse__WarehousePath"] = warehouse;
        info.Environment["Ingest__SpoolPath"] = Path.Combine(warehouse, "spool");
        foreach (var (k, v) in settings.Append(new(BenchIngestKey.Setting, BenchIngestKey.Secret)))
            info.Environment[k.Replace(":", "__", StringComparison.Ordinal)] = v;
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start the service");
        var log = Path.Combine(Path.GetTempPath(), $"attribution-bench-{process.Id}.log");
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"), log, warehouse);
        using var http = new HttpClient { BaseAddress = service.Url, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            if (process.HasExited) throw new InvalidOperationException($"the service exited with {process.ExitCode}; see {log}");
            try
            {
                using var r = await http.GetAsync(new Uri(readyPath, UriKind.Relative), ct);
                if (r.IsSuccessStatusCode) return service;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the service did not become ready; see {log}");
            await Task.Delay(250, ct);
        }
    }

    /// <summary>Resident and peak resident memory (VmRSS, VmHWM) of the service process, in bytes.</summary>
    public (long Rss, long PeakRss) Memory()
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line);
        }

        return (rss, peak);

        static long Kb(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (Directory.Exists(_warehouse)) Directory.Delete(_warehouse, recursive: true);
        // The log is kept only when the service failed to start (the exception names it).
        try
        {
            File.Delete(LogPath);
        }
        catch (IOException)
        {
            // Still open by the output reader: left in the temp folder.
        }
    }

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}

/// <summary>Facts about the machine for the report.</summary>
internal static class Machine
{
    public static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    public static double Load1() => File.Exists("/proc/loadavg")
        ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : 0;

    /// <summary>All CPUs' jiffies since boot (/proc/stat): total and idle (idle + iowait), for a busy fraction.</summary>
    public static (long Total, long Idle) CpuTimes()
    {
        if (!File.Exists("/proc/stat")) return (0, 0);
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (fields.Sum(), fields[3] + fields[4]);
    }

    public static string CpuModel()
    {
        var lscpu = Run("lscpu");
        return lscpu.Split('\n').FirstOrDefault(l => l.StartsWith("Model name:", StringComparison.Ordinal))?["Model name:".Length..].Trim() ?? "unknown";
    }

    public static string Run(string file, string args = "")
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return output;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "";
        }
    }
}


/// <summary>Deletes a folder when disposed, if it is there.</summary>
internal sealed class DirectoryRemoval(string path) : IDisposable
{
    public void Dispose()
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
    }
}

/// <summary>The tracking service hosted in the bench process, wired as <c>Program</c> wires it (API, tracking,
/// health), on 127.0.0.1 with the given settings; not started, so that a part can hook into it first.</summary>
internal static class BenchTrackingHost
{
    public static WebApplication Build(int port, IDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production", ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddInMemoryCollection(settings.Append(new(BenchIngestKey.Setting, BenchIngestKey.Secret)));
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.AddAttributionApi();
        var app = builder.Build();
        app.UseAttributionApi();
        app.MapTracking();
        app.MapHealth();
        return app;
    }
}
