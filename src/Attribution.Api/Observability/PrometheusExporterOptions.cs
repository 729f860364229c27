namespace Attribution.Api.Observability;

/// <summary>Settings of the Prometheus exporter.</summary>
public sealed class PrometheusExporterOptions
{
    /// <summary>Meters whose name starts with this (ordinal) are exported; others are never listened to.</summary>
    public string MeterNamePrefix { get; set; } = "Attribution";

    /// <summary>Label sets kept per instrument before further ones are folded into one overflow series.</summary>
    public int MaxSeriesPerInstrument { get; set; } = 2000;
}
