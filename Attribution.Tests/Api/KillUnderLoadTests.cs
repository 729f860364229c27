using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>
/// kill -9 of the service five times in a row under sustained tracking traffic, on the default set-up (the embedded
/// broker, which loses everything with the process): every acknowledged event ends up in the event store exactly
/// once, and Gold equals a run of the same events without kills.
/// </summary>
public sealed class KillUnderLoadTests
{
    private const int Kills = 5;

    [Fact]
    public Task Five_kills_under_sustained_load_lose_and_double_count_nothing() => Seeded.RunAsync(async seed =>
    {
        var random = new Random(seed);
        var db = TestPostgres.NewDatabase("kill9");
        var folder = Directory.CreateTempSubdirectory("kill-under-load-");
        var service = LiveService.Start(db, folder: folder);
        HttpClient? current = null;
        try
        {
            await StartedAsync(service);
            current = service.Http();
            await using var load = new TrackingLoad(() => Volatile.Read(ref current), "k9");
            for (var kill = 0; kill < Kills; kill++)
            {
                // Somewhere between 2 and 6 s of traffic, so kills land at different points of forwarding and applying.
                var before = load.Acknowledged.Count;
                await Task.Delay(TimeSpan.FromMilliseconds(2000 + random.Next(4000)));
                Assert.True(load.Acknowledged.Count > before, $"the service acknowledged traffic before kill {kill + 1}");
                service.Dispose();
                Volatile.Write(ref current, null);
                service = LiveService.Start(db, folder: folder);
                await StartedAsync(service);
                Volatile.Write(ref current, service.Http());
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync();
            Assert.Equal(0, load.Unexpected.Count);
            await Acknowledgements.AssertAppliedExactlyOnceAsync(service.Http, db, load, TimeSpan.FromSeconds(120));
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException($"{e.Message}\nservice log:\n{service.Log}", e);
        }
        finally
        {
            service.Dispose();
            folder.Delete(recursive: true);
            TestPostgres.Drop(db);
        }
    });

    private static async Task StartedAsync(LiveService service)
    {
        using var http = service.Http();
        await service.WaitAsync(async () => (await http.GetAsync(new Uri("/health/live", UriKind.Relative))).IsSuccessStatusCode, "the service to start");
    }
}
