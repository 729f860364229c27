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

    /// <summary>Forward pass only, as the burst: it shares nothing (a service, spool and database of its own), so another order cannot change
    /// its outcome, and it takes minutes.</summary>
    [Fact]
    [Trait(TestOrder.PassTrait, TestOrder.ForwardOnly)]
    public Task Five_kills_under_sustained_load_lose_and_double_count_nothing() => Seeded.RunAsync(seed =>
        RestartableService.RunAsync("kill9", null, "/health/live", async service =>
        {
            var random = new Random(seed);
            await using var load = new TrackingLoad(() => service.Client, "k9");
            for (var kill = 0; kill < Kills; kill++)
            {
                // Somewhere between 2 and 6 s of traffic, so kills land at different points of forwarding and applying.
                var before = load.Acknowledged.Count;
                await Task.Delay(TimeSpan.FromMilliseconds(2000 + random.Next(4000)));
                Assert.True(load.Acknowledged.Count > before, $"the service acknowledged traffic before kill {kill + 1}");
                await service.KillAndRestartAsync();
            }

            await Task.Delay(TimeSpan.FromSeconds(2));
            await load.StopAsync();
            Assert.Equal(0, load.Unexpected.Count);
            await Acknowledgements.AssertAppliedExactlyOnceAsync(service.Http, service.ConnectionString, load, TimeSpan.FromSeconds(120));
        }));
}
