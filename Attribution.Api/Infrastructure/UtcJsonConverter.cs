using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Attribution.Api.Infrastructure;

/// <summary>Every time the API answers is ISO-8601 UTC with a Z, whether the code holds a DateTime or a
/// DateTimeOffset, so clients parse one shape.</summary>
public sealed class UtcDateTimeOffsetJsonConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.GetDateTimeOffset();

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
}
