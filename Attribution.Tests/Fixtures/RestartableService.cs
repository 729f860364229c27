namespace Attribution.Tests.Fixtures;

/// <summary>
/// The service as a process that a test kills (SIGKILL) and starts again on the same database and folder (spool and
/// warehouse), with the client of whichever instance is up: what <see cref="TrackingLoad"/> sends to.
/// </summary>
internal sealed class RestartableService : IDisposable
{
    private readonly IDictionary<string, string>? _settings;
    private readonly DirectoryInfo _folder;
    // Clients of killed instances stay open until the end: a sender may still hold one mid-request.
    private readonly List<HttpClient> _clients = [];
    private LiveService _service;
    private HttpClient? _client;

    private RestartableService(string prefix, IDictionary<string, string>? settings)
    {
        _settings = settings;
        ConnectionString = TestPostgres.NewDatabase(prefix);
        _folder = Directory.CreateTempSubdirectory($"{prefix}-");
        _service = LiveService.Start(ConnectionString, settings, _folder);
    }

    public string ConnectionString { get; }

    /// <summary>The instance's client, or null while it is down.</summary>
    public HttpClient? Client => Volatile.Read(ref _client);

    /// <summary>A new client of the instance that is up.</summary>
    public HttpClient Http() => _service.Http();

    /// <summary>Runs the test against the started service (waited for on <paramref name="health"/>); a failure that
    /// is not an assertion carries the service's log, and the service, its folder and its database go afterwards.</summary>
    public static async Task RunAsync(string prefix, IDictionary<string, string>? settings, string health, Func<RestartableService, Task> test)
    {
        ArgumentNullException.ThrowIfNull(test);
        using var service = new RestartableService(prefix, settings);
        try
        {
            await service.StartedAsync(health);
            await test(service);
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\nservice log:\n{service._service.Log}", e);
        }
    }

    /// <summary>kill -9, then a new instance on the same database and folder, waited for until it is live.</summary>
    public async Task KillAndRestartAsync()
    {
        Volatile.Write(ref _client, null);
        _service.Dispose();
        _service = LiveService.Start(ConnectionString, _settings, _folder);
        await StartedAsync("/health/live");
    }

    private async Task StartedAsync(string health)
    {
        using var http = _service.Http();
        await _service.WaitAsync(async () => (await http.GetAsync(new Uri(health, UriKind.Relative))).IsSuccessStatusCode, $"the service to answer {health}");
        var client = _service.Http();
        _clients.Add(client);
        Volatile.Write(ref _client, client);
    }

    public void Dispose()
    {
        _service.Dispose();
        foreach (var client in _clients) client.Dispose();
        _folder.Delete(recursive: true);
        TestPostgres.Drop(ConnectionString);
    }
}
