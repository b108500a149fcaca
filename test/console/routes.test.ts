import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { buildConsoleBundle, moduleText } from '../../src/console/build-bundle.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { pdf } from '../media/fixtures.ts'
import { dataUrl, squarePng } from './fixtures.ts'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

// The console's server side without a browser: the page and bundle, and the API routes it added (media bytes,
// indexes, search), under the same auth as the rest of the API.

let db: Tessera
let app: ReturnType<typeof createApp>
let admin = ''
let reader = ''
let other = ''
let red = ''
const docDir = tempDir('tessera-console-docs-')
const docFile = (name: string, body: string | Uint8Array): string => {
  const p = join(docDir, name)
  writeFileSync(p, body)
  return p
}
// A markdown guide longer than the preview: its text is cut near 2000 characters.
const GUIDE = `# Field guide\n\nHow to read the tables. ${'Every row is one observation. '.repeat(10)}\n\n## Setup\n\nInstall it.\n\n` +
  Array.from({ length: 40 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n')
let pdfRef = ''

const get = (path: string, token = admin) => app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} })
const post = (path: string, body: unknown, token = admin) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })

beforeAll(async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('admin', { admin: true })
  reader = await tokens.create('reader', { scopes: [{ prefix: 'shop', access: 'read' }] })
  other = await tokens.create('other', { scopes: [{ prefix: 'elsewhere', access: 'write' }] })
  // The operator opened docDir to tokens (tessera serve --media-root): the reader token previews files there.
  app = createApp(db, { tokens, authenticate: tokens.authenticate, mediaRoots: [docDir] })
  await db.createDir('shop')
  const t = await db.createTable('shop/items', { name: 'string', photo: 'image?' })
  await t.insert([{ name: 'red square', photo: dataUrl(await squarePng('#d00')) }, { name: 'blue square', photo: dataUrl(await squarePng('#00d')) }, { name: 'no photo' }])
  await t.addEmbeddingIndex('name', { embed: embedders.lexical({ dims: 64 }) })
  red = String((await t.where(t.c.name.eq('red square')).collect()).rows[0]!.photo)
  const docs = await db.createTable('shop/docs', { name: 'string', doc: 'document?' })
  await docs.insert([
    { name: 'guide', doc: docFile('guide.md', GUIDE) },
    { name: 'page', doc: docFile('page.html', '<html><head><title>A page</title><script>var x = 1</script></head><body><h1>Top</h1><p>First &amp; one.</p></body></html>') },
    { name: 'report', doc: dataUrl(pdf([['Quarterly report', 'Revenue grew'], ['Second page words']]), 'application/pdf') },
    { name: 'changing', doc: docFile('changing.txt', 'plain text for now') },
  ])
  pdfRef = String((await docs.where(docs.c.name.eq('report')).collect()).rows[0]!.doc)
})
afterAll(async () => db.close())

describe('console page and bundle', () => {
  test('GET / serves the console page with a CSP, without a token', async () => {
    const res = await app.request('/')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'")
    const body = await res.text()
    expect(body).toContain('<div id="app">')
    const js = body.match(/src="(\/console\/app\.js\?v=\w+)"/)![1]!
    const script = await app.request(js)
    expect(script.headers.get('content-type')).toContain('javascript')
    expect((await script.text()).length).toBeGreaterThan(10_000)
    expect((await app.request('/console/app.css')).status).toBe(200)
    const etag = script.headers.get('etag')!
    expect((await app.request('/console/app.js', { headers: { 'if-none-match': etag } })).status).toBe(304)
  })

  test('the committed bundle is what src/console/ui builds to (run `bun src/console/build-bundle.ts` if not)', async () => {
    const committed = readFileSync(join(import.meta.dir, '../../src/console/bundle.generated.ts'), 'utf8')
    expect(committed === moduleText(await buildConsoleBundle())).toBe(true)
  })
})

describe('media route', () => {
  test('serves a thumbnail (webp, no larger than w) and the original bytes of a ref the column holds', async () => {
    const q = new URLSearchParams({ column: 'photo', ref: red, w: '32' })
    const thumb = await get(`/api/v1/tables/shop/items/-/media?${q}`, reader)
    expect(thumb.status).toBe(200)
    expect(thumb.headers.get('content-type')).toBe('image/webp')
    const meta = await (await import('sharp')).default(Buffer.from(await thumb.arrayBuffer())).metadata()
    expect(meta.width).toBe(32)
    q.delete('w')
    const full = await get(`/api/v1/tables/shop/items/-/media?${q}`, reader)
    expect(full.headers.get('content-type')).toBe('image/png')
    expect(full.headers.get('content-security-policy')).toBe('sandbox')
    expect((await (await import('sharp')).default(Buffer.from(await full.arrayBuffer())).metadata()).width).toBe(64)
  })

  test('the token may also come as ?token= (for <img> tags)', async () => {
    const q = new URLSearchParams({ column: 'photo', ref: red, token: reader })
    expect((await app.request(`/api/v1/tables/shop/items/-/media?${q}`)).status).toBe(200)
  })

  test('refuses files the column does not hold, other scopes, and missing tokens', async () => {
    const notHeld = new URLSearchParams({ column: 'photo', ref: '/etc/passwd' })
    const r1 = await get(`/api/v1/tables/shop/items/-/media?${notHeld}`)
    expect(r1.status).toBe(404)
    expect(((await r1.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    const ok = new URLSearchParams({ column: 'photo', ref: red })
    expect((await get(`/api/v1/tables/shop/items/-/media?${ok}`, other)).status).toBe(404) // another scope: the same answer as a missing table
    expect((await get(`/api/v1/tables/shop/items/-/media?${ok}`, '')).status).toBe(401)
    const notMedia = new URLSearchParams({ column: 'name', ref: 'red square' })
    expect((await get(`/api/v1/tables/shop/items/-/media?${notMedia}`)).status).toBe(400)
  })
})

describe('document text previews (preview=text)', () => {
  type Preview = { text: string; truncated: boolean; pages?: number; title?: string; kind: string }
  const preview = (ref: string, token = reader, column = 'doc', table = 'shop/docs') =>
    get(`/api/v1/tables/${table}/-/media?${new URLSearchParams({ column, ref, preview: 'text' })}`, token)

  test('markdown: headings and paragraphs as plain text, cut near 2000 characters', async () => {
    const res = await preview(join(docDir, 'guide.md'))
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    const p = (await res.json()) as Preview
    expect(p.kind).toBe('md')
    expect(p.title).toBe('Field guide')
    expect(p.text.startsWith('Field guide\n\nHow to read the tables. Every row is one observation.')).toBe(true)
    expect(p.text).toContain('Setup\n\nInstall it.')
    expect(p.text).not.toContain('#')
    expect(p.truncated).toBe(true)
    expect(p.text.length).toBeLessThanOrEqual(2000)
    expect(p.text.length).toBeGreaterThan(1900)
    expect(p.pages).toBeUndefined()
    // the same answer again (from the cache)
    expect(await (await preview(join(docDir, 'guide.md'))).json()).toEqual(p)
  })

  test('HTML: text without markup or scripts, <title> as title', async () => {
    const p = (await (await preview(join(docDir, 'page.html'))).json()) as Preview
    expect(p).toEqual({ text: 'Top\n\nFirst & one.', truncated: false, title: 'A page', kind: 'html' })
  })

  test('PDF (a stored media:// upload): its text and page count', async () => {
    expect(pdfRef).toMatch(/^media:\/\/[0-9a-f]{64}\.pdf$/)
    const res = await preview(pdfRef)
    expect(res.status).toBe(200)
    const p = (await res.json()) as Preview
    expect(p).toEqual({ text: 'Quarterly report\nRevenue grew\n\nSecond page words', truncated: false, pages: 2, kind: 'pdf' })
  })

  test('refused on columns that are not documents, for other previews, refs the column does not hold and other scopes', async () => {
    const image = await preview(red, reader, 'photo', 'shop/items')
    expect(image.status).toBe(400)
    const e = ((await image.json()) as { error: { code: string; message: string; details: { column: string } } }).error
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toContain("column 'photo' of 'shop/items' is image?: text previews are for document columns")
    expect(e.details.column).toBe('photo')
    expect((await preview('red square', reader, 'name', 'shop/items')).status).toBe(400) // not a media column at all
    const wrongKind = new URLSearchParams({ column: 'doc', ref: pdfRef, preview: 'html' })
    expect((await get(`/api/v1/tables/shop/docs/-/media?${wrongKind}`)).status).toBe(400)
    expect((await preview('/etc/passwd')).status).toBe(404)
    expect((await preview(pdfRef, other)).status).toBe(404)
    expect((await preview(pdfRef, '')).status).toBe(401)
  })

  test('a document that cannot be parsed is a 400 naming the column and reference, not a 500', async () => {
    const ref = join(docDir, 'changing.txt')
    expect(((await (await preview(ref)).json()) as Preview).text).toBe('plain text for now')
    // the file changes after it was stored: now it claims to be a PDF but is not one (a new size and mtime, so no cached answer)
    writeFileSync(ref, '%PDF-1.4\nthis is not really a pdf at all\n%%EOF\n')
    const res = await preview(ref)
    expect(res.status).toBe(400)
    const e = ((await res.json()) as { error: { code: string; message: string; details: { column: string; ref: string } } }).error
    expect(e.code).toBe('INVALID_MEDIA')
    expect(e.message).toContain(`cannot make a text preview of document '${ref}' in column 'doc' of 'shop/docs'`)
    expect(e.message).toContain('unpdf cannot read the PDF')
    expect(e.details).toEqual({ column: 'doc', ref })
    // and bytes that are neither PDF nor text
    writeFileSync(ref, new Uint8Array([0, 159, 146, 150, 0, 255, 1, 2, 3, 4, 5, 6, 7]))
    const binary = await preview(ref)
    expect(binary.status).toBe(400)
    expect(((await binary.json()) as { error: { message: string } }).error.message).toContain('neither a PDF nor UTF-8 text')
  })
})

describe('indexes and search routes', () => {
  test('lists indexes', async () => {
    const r = (await (await get('/api/v1/tables/shop/items/-/indexes', reader)).json()) as { indexes: { name: string; column: string; dims: number; embed: { modality: string } }[] }
    expect(r.indexes).toEqual([expect.objectContaining({ name: 'idx0', column: 'name', dims: 64, embed: expect.objectContaining({ modality: 'text' }) })])
  })

  test('text search ranks the row sharing words first, with a score', async () => {
    const res = await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'blue', k: 2 }, reader)
    expect(res.status).toBe(200)
    const r = (await res.json()) as { columns: { name: string }[]; rows: { name: string; score: number }[] }
    expect(r.rows.length).toBe(2)
    expect(r.rows[0]!.name).toBe('blue square')
    expect(r.rows[0]!.score).toBeGreaterThan(r.rows[1]!.score)
    expect(r.columns.map((c) => c.name)).toEqual(['name', 'photo', 'score'])
  })

  test('hybrid search fuses full text and vectors', async () => {
    const r = (await (await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'red square', hybrid: true, k: 3 })).json()) as { rows: { name: string; textRank: number | null }[] }
    expect(r.rows[0]!.name).toBe('red square')
    expect(r.rows[0]!.textRank).toBe(1)
  })

  test('bad requests are 4xx naming the problem', async () => {
    const both = await post('/api/v1/tables/shop/items/-/search', { column: 'name' })
    expect(both.status).toBe(400)
    expect(((await both.json()) as { error: { message: string } }).error.message).toContain('exactly one of text, image or vector')
    const wrongModality = await post('/api/v1/tables/shop/items/-/search', { column: 'name', image: dataUrl(await squarePng('#0d0')) })
    expect(wrongModality.status).toBe(400)
    expect((await post('/api/v1/tables/shop/items/-/search', { column: 'name', text: 'x' }, other)).status).toBe(404)
  })
})
