using Attribution.Domain.Attribution;
using Attribution.Domain.Events;
using JasperFx.Events.Projections;
using JasperFx;
using JasperFx.Events;
using Marten;
using Npgsql;
using Weasel.Core;

namespace Attribution.Projections.EventStore;

/// <summary>
/// The event store is Marten's: one string-keyed stream per impression_id in mt_streams, its events in mt_events
/// (our past-tense records as the data, the business event_id as Marten's event id with its unique index, the Kafka
/// origin and the raw payload in the headers). Every place that opens the store configures it here.
/// </summary>
public static class MartenSetup
{
    public static void Configure(StoreOptions options, NpgsqlDataSource dataSource)
    {
        options.Connection(dataSource);
        // snake_case: the stored data reads like the wire events (event_id, impression_id, bid_price); computed
        // properties (Type, Lateness) and absent fields are not stored (PostgreSQL parses every byte of it as jsonb).
        options.UseSystemTextJsonForSerialization(casing: Casing.SnakeCase, configure: json =>
        {
            json.IgnoreReadOnlyProperties = true;
            json.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        options.Events.StreamIdentity = StreamIdentity.AsString;
        options.Events.AppendMode = EventAppendMode.Quick;
        options.Events.EnableUniqueIndexOnEventId = true;
        options.Events.MetadataConfig.HeadersEnabled = true;
        foreach (var type in EventTypes.Values) options.Events.AddEventType(type.ClrType);
        // The domain's aggregate, folded live from a stream (AggregateStreamAsync); it is never stored as a document.
        options.Schema.For<ImpressionAggregate>().Identity(a => a.ImpressionId);
        options.Projections.Add<ImpressionProjection>(ProjectionLifecycle.Live);
        // The schema migrator applies Marten's tables once, under its lock, before anything reads or writes.
        options.AutoCreateSchemaObjects = AutoCreate.None;
    }

    /// <summary>Marten's tenant column value for a store without tenancy.</summary>
    public const string DefaultTenant = "*DEFAULT*";

    /// <summary>A store of its own, for the schema migrator and the command-line verbs.</summary>
    public static DocumentStore CreateStore(NpgsqlDataSource dataSource) => DocumentStore.For(o => Configure(o, dataSource));

    /// <summary>Marten's name and .NET type name for each of our event types, as Marten writes them.</summary>
    public static IReadOnlyDictionary<AdEventType, MartenEventType> EventTypes { get; } = new Dictionary<AdEventType, MartenEventType>
    {
        [AdEventType.Impression] = MartenEventType.Of<ImpressionServed>("impression_served"),
        [AdEventType.Click] = MartenEventType.Of<AdClicked>("ad_clicked"),
        [AdEventType.Conversion] = MartenEventType.Of<ConversionReported>("conversion_reported"),
    };

    public sealed record MartenEventType(Type ClrType, string Alias, string DotNetTypeName)
    {
        public static MartenEventType Of<T>(string alias) => new(typeof(T), alias, $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}");
    }
}
