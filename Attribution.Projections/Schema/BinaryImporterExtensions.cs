using Npgsql;
using NpgsqlTypes;

namespace Attribution.Projections.Schema;

/// <summary>Nullable values for the binary COPY writers of the hot path (events, Gold).</summary>
internal static class BinaryImporterExtensions
{
    public static void WriteText(this NpgsqlBinaryImporter importer, string? value)
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value, NpgsqlDbType.Text);
    }

    public static void WriteNullable<T>(this NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type)
        where T : struct
    {
        if (value is null) importer.WriteNull();
        else importer.Write(value.Value, type);
    }
}
