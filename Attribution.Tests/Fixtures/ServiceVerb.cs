using System.Diagnostics;

namespace Attribution.Tests.Fixtures;

/// <summary>The built service's command-line verbs (replay, whatif, …), run as a process of their own.</summary>
public static class ServiceVerb
{
    /// <summary>Runs the built Attribution.Api.dll with a verb against a database, and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string connectionString, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetTempPath(),
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            Environment = { ["ConnectionStrings__Postgres"] = connectionString, ["DOTNET_ENVIRONMENT"] = "Production" },
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Attribution.Api.dll"));
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{string.Join(' ', args)}' did not exit within 3 minutes:\n{await stdout}\n{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
