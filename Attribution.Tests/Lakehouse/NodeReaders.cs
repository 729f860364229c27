using System.Diagnostics;
using System.Text.Json;

namespace Attribution.Tests.Lakehouse;

/// <summary>
/// Runs the independent readers in Attribution.Tests/js (hyparquet, icebird, avsc, DuckDB) on files we wrote. Missing Node.js
/// or packages make the calling test fail with a message saying what to install; they never make it pass.
/// </summary>
internal static class NodeReaders
{
    private static readonly Lazy<string> ScriptsDirectory = new(Prepare, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Attribution.sln"))) return dir.FullName;
            throw new InvalidOperationException($"No Attribution.sln above {AppContext.BaseDirectory}.");
        }
    }

    public static JsonElement Parquet(string file) => Run("read-parquet.mjs", file);

    public static JsonElement DuckDb(string file) => Run("read-duckdb.mjs", file);

    /// <summary>Rows of any DuckDB query (session time zone UTC), e.g. a predicate over <c>read_parquet('…')</c>.</summary>
    public static JsonElement DuckDbQuery(string sql) => Run("query-duckdb.mjs", sql).GetProperty("rows");

    public static string SqlString(string value) => $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    public static JsonElement Avro(string file) => Run("read-avro.mjs", file);

    public static JsonElement Iceberg(string tableDirectory, string? metadataFileName = null) =>
        metadataFileName is null ? Run("read-iceberg.mjs", tableDirectory) : Run("read-iceberg.mjs", tableDirectory, metadataFileName);

    public static JsonElement Run(string script, params string[] args)
    {
        var dir = ScriptsDirectory.Value;
        var (code, stdout, stderr) = Exec("node", dir, TimeSpan.FromSeconds(120), [Path.Combine(dir, script), .. args]);
        if (code != 0) throw new InvalidOperationException($"node {script} {string.Join(' ', args)} failed ({code}):\n{stderr}");
        using var doc = JsonDocument.Parse(stdout);
        return doc.RootElement.Clone();
    }

    private static string Prepare()
    {
        var dir = Path.Combine(RepoRoot, "Attribution.Tests", "js");
        try
        {
            var (code, _, _) = Exec("node", dir, TimeSpan.FromSeconds(30), ["--version"]);
            if (code != 0) throw new InvalidOperationException("node --version failed");
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new InvalidOperationException(
                "The Lakehouse reader tests need Node.js 20+ and npm on PATH (apt-get install -y nodejs npm; scripts/setup.sh does it).", e);
        }
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "icebird")))
        {
            // scripts/test.sh runs npm ci first; a plain `dotnet test` on a fresh clone installs here instead.
            int code;
            string stdout, stderr;
            try
            {
                (code, stdout, stderr) = Exec("npm", dir, TimeSpan.FromMinutes(5), ["ci", "--no-audit", "--no-fund"]);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"npm is required to install the reader packages in {dir} (apt-get install -y npm).", e);
            }
            if (code != 0)
                throw new InvalidOperationException($"npm ci in {dir} failed ({code}); the reader packages are required:\n{stdout}\n{stderr}");
        }
        return dir;
    }

    private static (int Code, string Stdout, string Stderr) Exec(string file, string workingDirectory, TimeSpan timeout, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish within {timeout}.");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}
