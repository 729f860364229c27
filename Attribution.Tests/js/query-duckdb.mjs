// Usage: node query-duckdb.mjs SQL  ->  { rows: [...] }: any query DuckDB runs, e.g. a predicate over read_parquet().
import { DuckDBInstance } from '@duckdb/node-api'
import { main } from './lib.mjs'

main(async ([sql]) => {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  await connection.run(`SET TimeZone = 'UTC'`)
  const result = await connection.runAndReadAll(sql)
  return { rows: result.getRowObjectsJson() }
})
