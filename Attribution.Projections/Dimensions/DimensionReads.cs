using System.Data.Common;
using Npgsql;

namespace Attribution.Projections.Dimensions;

/// <summary>How every SCD2 dimension reads its versions: one query, positional parameters, one row type.</summary>
internal static class DimensionReads
{
    public static async Task<List<T>> RowsAsync<T>(NpgsqlConnection conn, NpgsqlTransaction? tx, string sql, object[] args,
        Func<DbDataReader, T> read, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var a in args) cmd.Parameters.Add(new() { Value = a });
        var rows = new List<T>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct)) rows.Add(read(reader));
        return rows;
    }
}
