using System.Text.Json;
using System.Text.Json.Serialization;

namespace Attribution.Api.Infrastructure;

/// <summary>numeric(18,6) comes back as 1.500000; money is written without the storage scale's trailing zeros.</summary>
public sealed class MoneyJsonConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDecimal();

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options) =>
        writer.WriteNumberValue(value / 1.000000000000000000000000000000000m);
}
