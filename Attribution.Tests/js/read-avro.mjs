// Usage: node read-avro.mjs FILE  ->  { metadata: {key: string}, schema: {...}, records: [...] } decoded by avsc.
import avro from 'avsc'
import { main } from './lib.mjs'

// Iceberg snapshot ids use all 63 bits; avsc's default long refuses values beyond 2^53, so longs are BigInts here.
const longType = avro.types.LongType.__with({
  fromBuffer: buf => buf.readBigInt64LE(),
  toBuffer: n => {
    const buf = Buffer.alloc(8)
    buf.writeBigInt64LE(BigInt(n))
    return buf
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: n => typeof n === 'bigint',
  compare: (a, b) => (a === b ? 0 : a < b ? -1 : 1),
})

main(([file]) => new Promise((resolve, reject) => {
  const records = []
  const metadata = {}
  let schema = null
  const parseHook = writerSchema => avro.Type.forSchema(writerSchema, { registry: { long: longType } })
  avro.createFileDecoder(file, { parseHook })
    .on('metadata', (type, _codec, header) => {
      schema = type.schema({ exportAttrs: true })
      for (const [k, v] of Object.entries(header.meta)) metadata[k] = Buffer.from(v).toString('utf8')
    })
    .on('data', record => records.push(record))
    .on('error', reject)
    .on('end', () => resolve({ metadata, schema, records }))
}))
