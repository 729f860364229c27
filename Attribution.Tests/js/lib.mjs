// Helpers shared by the reader scripts the C# Lakehouse tests run. Each script prints one JSON document.
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

function localPath(url) {
  const s = String(url)
  if (s.startsWith('file:')) return fileURLToPath(s)
  if (s.startsWith('/')) return s
  return null
}

// icebird and hyparquet read through fetch(); Node's fetch cannot read local files, so file: URLs and absolute
// paths are served from disk here, Range requests included (hyparquet reads footers and pages by range).
export function installFileFetch() {
  const realFetch = globalThis.fetch
  globalThis.fetch = async (url, init) => {
    const path = localPath(url)
    if (path === null) return realFetch(url, init)
    let bytes
    try {
      bytes = readFileSync(path)
    } catch {
      return new Response(null, { status: 404, statusText: 'Not Found' })
    }
    const range = new Headers(init?.headers).get('Range')
    if (range) {
      const m = /bytes=(\d+)-(\d*)/.exec(range)
      const start = Number(m[1])
      const end = m[2] === '' ? bytes.length : Math.min(Number(m[2]) + 1, bytes.length)
      return new Response(bytes.subarray(start, end), { status: 206 })
    }
    return new Response(bytes, { status: 200, headers: { 'content-length': String(statSync(path).size) } })
  }
}

// JSON cannot carry bigint or bytes: bigints become decimal strings, dates ISO strings, bytes {"$hex": "..."}.
export function toJson(value) {
  return JSON.stringify(value, (_key, v) => {
    if (typeof v === 'bigint') return v.toString()
    if (v instanceof Uint8Array) return { $hex: Buffer.from(v).toString('hex') }
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return { $hex: Buffer.from(v.data).toString('hex') }
    return v
  })
}

export function print(value) {
  process.stdout.write(toJson(value) + '\n')
}

export async function main(fn) {
  try {
    print(await fn(process.argv.slice(2)))
  } catch (err) {
    process.stderr.write(`${err?.stack ?? err}\n`)
    process.exit(1)
  }
}
