// Usage: node read-parquet.mjs FILE  ->  { metadata: {...hyparquet footer...}, rows: [...] }
// Timestamps come back as raw microseconds so the test can compare them exactly.
import { readFileSync } from 'node:fs'
import { parquetMetadata, parquetReadObjects } from 'hyparquet'
import { compressors } from 'hyparquet-compressors'
import { main } from './lib.mjs'

main(async ([file]) => {
  const bytes = readFileSync(file)
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
  const metadata = parquetMetadata(buffer)
  const rows = await parquetReadObjects({
    file: buffer,
    compressors,
    parsers: { timestampFromMicroseconds: micros => micros },
  })
  return { metadata, rows }
})
