namespace Attribution.Api.Observability;

/// <summary>Settings of the Prometheus exporter.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>Meters whose name starts with this (ordinal) are exported; others are never listened to.</summary>
    public string MeterNamePrefix { get; set; } = "Attribution";

    /// <summary>Also export .NET's built-in "System.Runtime" meter: GC heap sizes after the last collection,
    /// working set, CPU time, thread pool, exceptions (what prometheus-net's process and GC collectors give).</summary>
    public bool ExportRuntimeMetrics { get; set; } = true;

    /// <summary>Label sets kept per instrument before further ones are folded into one overflow series.</summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;
}
