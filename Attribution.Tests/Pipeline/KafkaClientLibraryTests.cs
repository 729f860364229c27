using System.Text.RegularExpressions;
using Attribution.Projections.Pipeline;
using Attribution.Tests.Fixtures;

namespace Attribution.Tests.Pipeline;

/// <summary>The Kafka client, its native library and the embedded broker come from one package, loaded once.</summary>
public sealed partial class KafkaClientLibraryTests
{
    [Fact]
    public void The_client_and_the_embedded_broker_use_the_one_librdkafka_the_package_ships()
    {
        // Starting the shared embedded cluster goes through our bindings; a producer loads the client's.
        Assert.False(string.IsNullOrEmpty(TestKafka.BootstrapServers));
        using (TestKafka.Producer())
        {
        }

        Assert.Equal("2.16.0", Confluent.Kafka.Library.VersionString);
        Assert.Equal(Confluent.Kafka.Library.VersionString, Librdkafka.VersionString());
        var mapped = File.ReadAllLines("/proc/self/maps").Select(l => LibraryPath().Match(l)).Where(m => m.Success)
            .Select(m => m.Value).Distinct(StringComparer.Ordinal).ToList();
        var library = Assert.Single(mapped);
        Assert.Contains($"{Path.DirectorySeparatorChar}runtimes{Path.DirectorySeparatorChar}linux-x64{Path.DirectorySeparatorChar}native{Path.DirectorySeparatorChar}", library, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"/\S*librdkafka[^/\s]*\.so[^/\s]*$")]
    private static partial Regex LibraryPath();
}
