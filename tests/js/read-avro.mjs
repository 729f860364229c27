// Usage: node read-avro.mjs FILE  ->  { metadata: {key: string}, schema: {...}, records: [...] } decoded by avsc.
import avro from 'avsc'
import { main } from './lib.mjs'

main(([file]) => new Promise((resolve, reject) => {
  const records = []
  let metadata = {}
  let schema = null
  avro.createFileDecoder(file)
    .on('metadata', (type, codec, header) => {
      schema = type.schema()
      for (const [k, v] of Object.entries(header.meta)) metadata[k] = Buffer.from(v).toString('utf8')
    })
    .on('data', record => records.push(record))
    .on('error', reject)
    .on('end', () => resolve({ metadata, schema, records }))
}))
