// Usage: node query-warehouse.mjs WAREHOUSE_DIR SQL  ->  { tables: {ns.table: files}, rows: [...] }
// Every Iceberg table of the warehouse (Hadoop layout WAREHOUSE/ns/table) becomes a DuckDB view ns.table over the
// data files its current snapshot lists, resolved by icebird (manifest list and manifests); then DuckDB runs SQL as
// written, so a query over the warehouse's namespaces (gold.x JOIN dims.y) runs unchanged. DuckDB's own iceberg
// extension cannot be downloaded here.
import { readdirSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { DuckDBInstance } from '@duckdb/node-api'
import { icebergManifests, icebergMetadata } from 'icebird'
import { installFileFetch, main } from './lib.mjs'

installFileFetch()

const quote = s => `'${String(s).replaceAll("'", "''")}'`
const ident = s => `"${String(s).replaceAll('"', '""')}"`

main(async ([warehouse, sql]) => {
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const tables = {}
  for (const ns of readdirSync(warehouse)) {
    for (const table of readdirSync(join(warehouse, ns))) {
      const dir = join(warehouse, ns, table)
      if (!existsSync(join(dir, 'metadata', 'version-hint.text'))) continue
      const metadata = await icebergMetadata({ tableUrl: pathToFileURL(dir).href })
      if (!(metadata['current-snapshot-id'] > 0)) continue
      const files = (await icebergManifests(metadata))
        .flatMap(m => m.entries)
        .filter(e => e.status !== 2 && (e.data_file.content ?? 0) === 0)
        .map(e => {
          const path = String(e.data_file.file_path)
          return path.startsWith('file:') ? fileURLToPath(path) : path
        })
      tables[`${ns}.${table}`] = files.length
      await connection.run(`CREATE SCHEMA IF NOT EXISTS ${ident(ns)}`)
      await connection.run(`CREATE VIEW ${ident(ns)}.${ident(table)} AS SELECT * FROM read_parquet([${files.map(quote).join(', ')}])`)
    }
  }
  await connection.run("SET TimeZone = 'UTC'")
  const result = await connection.runAndReadAll(sql)
  return { tables, rows: result.getRowObjectsJson() }
})
