// Usage: node read-duckdb.mjs FILE  ->  { rows: [...], stats: [...] } read by DuckDB's own Parquet reader.
import { DuckDBInstance } from '@duckdb/node-api'
import { main } from './lib.mjs'

main(async ([file]) => {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const quoted = `'${file.replaceAll("'", "''")}'`
  // Epoch microseconds keep timestamps exact across the JSON boundary.
  const columns = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${quoted})`)
  const select = columns.getRowObjects().map(c => {
    const name = `"${String(c.column_name).replaceAll('"', '""')}"`
    return String(c.column_type).startsWith('TIMESTAMP') ? `epoch_us(${name}) AS ${name}` : name
  }).join(', ')
  const rows = await connection.runAndReadAll(`SELECT ${select} FROM read_parquet(${quoted})`)
  const stats = await connection.runAndReadAll(
    `SELECT path_in_schema, row_group_id, stats_min_value, stats_max_value, stats_null_count FROM parquet_metadata(${quoted})`)
  const schema = await connection.runAndReadAll(
    `SELECT name, type, logical_type, field_id FROM parquet_schema(${quoted})`)
  return {
    types: columns.getRowObjects().map(c => ({ name: c.column_name, type: c.column_type })),
    rows: rows.getRowObjectsJson(),
    stats: stats.getRowObjectsJson(),
    schema: schema.getRowObjectsJson(),
  }
})
