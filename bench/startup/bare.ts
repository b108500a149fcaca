// The peer of `tessera serve`'s start: a bare Bun + PGlite (+ pgvector) + Hono program compiled the same way
// (bun build --compile, PGlite's files embedded), opening a data dir and answering /health. Nothing else.
//   bare DATA_DIR PORT
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { Hono } from 'hono'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import initdbWasmPath from '../../node_modules/@electric-sql/pglite/dist/initdb.wasm' with { type: 'file' }
import pgliteDataPath from '../../node_modules/@electric-sql/pglite/dist/pglite.data' with { type: 'file' }
import pgliteWasmPath from '../../node_modules/@electric-sql/pglite/dist/pglite.wasm' with { type: 'file' }
import vectorBundle from '../../node_modules/@electric-sql/pglite-pgvector/dist/vector.tar.gz' with { type: 'file' }

const [dataDir, port] = process.argv.slice(2)
mkdirSync(join(dataDir!, '..'), { recursive: true })
const [pgliteWasmModule, initdbWasmModule] = await Promise.all([WebAssembly.compile(readFileSync(pgliteWasmPath)), WebAssembly.compile(readFileSync(initdbWasmPath))])
// PGlite streams the extension tarball from a real file (as Tessera's binary does).
const vectorFile = join(mkdtempSync(join(tmpdir(), 'bare-')), 'vector.tar.gz')
writeFileSync(vectorFile, readFileSync(vectorBundle))
const pg = await PGlite.create({
  dataDir: dataDir!, pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([readFileSync(pgliteDataPath)]),
  extensions: { vector: { name: 'vector', setup: async (_pg: unknown, emscriptenOpts: unknown) => ({ emscriptenOpts, bundlePath: new URL(`file://${vectorFile}`) }) } as unknown as typeof vector },
})
await pg.exec('create extension if not exists vector')
const app = new Hono().get('/health', async (c) => c.json({ status: (await pg.query('select 1')).rows.length ? 'ok' : 'bad' }))
const server = Bun.serve({ port: Number(port), hostname: '127.0.0.1', fetch: app.fetch })
console.log(`serving at http://127.0.0.1:${server.port}`)
process.on('SIGTERM', async () => {
  await server.stop()
  await pg.close()
  process.exit(0)
})
