using System.Diagnostics.Metrics;
using Attribution.Api.Observability;

namespace Attribution.Tests.Observability;

/// <summary>A meter and a collector that listens to it alone, so tests running in parallel never see each other's metrics.</summary>
internal sealed class CollectorFixture : IDisposable
{
    public CollectorFixture(int maxSeries = 2000)
    {
        Prefix = "Test.Obs." + Guid.NewGuid().ToString("N");
        Collector = new PrometheusCollector(new PrometheusExporterOptions { MeterNamePrefix = Prefix, MaxSeriesPerInstrument = maxSeries, ExportRuntimeMetrics = false });
        Meter = new Meter(Prefix + ".Main");
    }

    public string Prefix { get; }

    public Meter Meter { get; }

    public PrometheusCollector Collector { get; }

    /// <summary>Scrapes and parses strictly: every test that scrapes also checks the output is valid.</summary>
    public PromExposition Scrape() => PrometheusTextParser.Parse(Collector.Collect());

    public void Dispose()
    {
        Meter.Dispose();
        Collector.Dispose();
    }
}
