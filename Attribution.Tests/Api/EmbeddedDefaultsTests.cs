using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Api;

/// <summary>The service on its embedded defaults, as a newcomer starts it: no Kafka configured, so it starts librdkafka's
/// mock cluster itself, and a database that does not exist yet, which it creates and migrates.</summary>
public sealed class EmbeddedDefaultsTests(EmbeddedDefaultsTests.EmbeddedApi api) : IClassFixture<EmbeddedDefaultsTests.EmbeddedApi>
{
    public sealed class EmbeddedApi() : ApiFactory(new Dictionary<string, string?>
    {
        ["Kafka:BootstrapServers"] = "",
        ["Kafka:Topic"] = "ad_events",
    }, createdByTheService: true);

    [Fact]
    public async Task A_pixel_hit_becomes_gold_state_on_the_embedded_broker_with_sixteen_partitions()
    {
        var http = api.Client();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/pixel?impression_id=emb-1&campaign_id=c&bid_price=0.7")).StatusCode);

        var status = await api.WaitForDrainAsync(1);

        Assert.True(status.Embedded);
        Assert.Equal(16, status.Partitions.Count);
        Assert.StartsWith("embedded-", status.ClusterId, StringComparison.Ordinal);
        var imp = await http.GetFromJsonAsync<JsonElement>("/api/v1/impressions/emb-1");
        Assert.Equal(0.7m, imp.GetProperty("cost").GetDecimal());
    }
}
