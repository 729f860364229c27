using Attribution.Projections.Schema;
using Attribution.Tests.Fixtures;
using Npgsql;

namespace Attribution.Tests.Schema;

public sealed class SchemaMigratorTests
{
    [Fact]
    public async Task A_database_the_service_creates_compares_text_byte_by_byte_and_keeps_the_servers_character_classes()
    {
        var connectionString = TestPostgres.NewDatabase("collate");
        try
        {
            await SchemaMigrator.EnsureDatabaseAsync(connectionString);

            await using var conn = new NpgsqlConnection(connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("""
                SELECT d.datcollate, d.datctype = t.datctype
                FROM pg_database d, pg_database t
                WHERE d.datname = current_database() AND t.datname = 'template0'
                """, conn);
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal("C", reader.GetString(0));
            Assert.True(reader.GetBoolean(1));
        }
        finally
        {
            TestPostgres.Drop(connectionString);
        }
    }
}
