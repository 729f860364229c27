// Usage: node read-iceberg.mjs TABLE_DIR [METADATA_FILE_NAME]
//   ->  { metadata: {...}, manifests: [...entries of the current snapshot...], rows: [...] } read by icebird.
import { pathToFileURL } from 'node:url'
import { icebergManifests, icebergMetadata, icebergRead } from 'icebird'
import { installFileFetch, main } from './lib.mjs'

installFileFetch()

main(async ([tableDir, metadataFileName]) => {
  const tableUrl = pathToFileURL(tableDir).href
  const metadata = await icebergMetadata({ tableUrl, metadataFileName })
  const manifests = await icebergManifests(metadata)
  const rows = await icebergRead({ tableUrl, metadata })
  return { metadata, manifests, rows }
})
