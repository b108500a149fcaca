import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { downloadOutbound, FileCache, internalReason, withMediaAccess } from '../../src/media/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { jpeg } from '../media/fixtures.ts'

// Issue 17, findings 2 and 3: a tenant's URL must not make the server reach its own network, in any spelling of an
// internal address, at insert, through the media route (bytes, thumbnails, text previews) or inside an expression;
// redirects are re-checked hop by hop; downloads have a size cap and timeouts. An "internal" server with a secret
// listens on 127.0.0.1; where a test needs a "public" host on this machine, it declares one loopback address public
// through the fetcher's classify hook (127.0.0.1 stands in for the internet, 127.0.0.2 for the internal network).

const SECRET = 'internal only: the metadata credentials'
let internal: ReturnType<typeof Bun.serve>
let asked = 0
let inside: ReturnType<typeof Bun.serve>
let db: Tessera
let admin: RemoteTessera
let tenant: RemoteTessera
const dir = tempDir('tessera-ssrf-')
const png = Buffer.from(await jpeg(96, 64))

beforeAll(async () => {
  internal = Bun.serve({
    port: 0, hostname: '127.0.0.1',
    fetch: (req) => {
      asked++
      const url = new URL(req.url)
      if (url.pathname.startsWith('/redirect/')) {
        const n = Number(url.pathname.split('/')[2])
        return Response.redirect(n > 0 ? `http://127.0.0.1:${url.port}/redirect/${n - 1}` : `http://127.0.0.2:${inside.port}/secret.txt`, 302)
      }
      if (url.pathname === '/to-inside') return Response.redirect(`http://127.0.0.2:${inside.port}/secret.txt`, 302)
      if (url.pathname === '/big') return new Response(new Uint8Array(2 * 1024 * 1024))
      if (url.pathname === '/big-chunked') {
        return new Response(new ReadableStream({
          async pull(c) {
            c.enqueue(new Uint8Array(256 * 1024))
            await Bun.sleep(1)
          },
        }))
      }
      if (url.pathname === '/slow') return Bun.sleep(5_000).then(() => new Response('late'))
      if (url.pathname === '/host') return new Response(req.headers.get('host'))
      if (url.pathname === '/dog.jpg') return new Response(png, { headers: { 'content-type': 'image/jpeg' } })
      return new Response(SECRET, { headers: { 'content-type': 'text/plain' } })
    },
  })
  inside = Bun.serve({ port: 0, hostname: '127.0.0.2', fetch: () => new Response(SECRET) })
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  const app = createApp(db, { authenticate: tokens.authenticate, tokens })
  const as = (token: string) => connect('http://t', { token, fetch: async (r) => app.fetch(r) })
  admin = as(await tokens.create('root', { admin: true }))
  await admin.createDir('user_1')
  tenant = as((await admin.http.request<{ token: string }>('POST', '/api/v1/tokens', { name: 'u1', scopes: [{ prefix: 'user_1', access: 'write' }] })).token)
})
afterAll(async () => {
  internal.stop(true)
  inside.stop(true)
  await db.close()
})

const outcome = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`)

/** Every spelling of an internal address the URL parser and the resolver can produce (port filled in). */
const forms = (port: number) => [
  `http://127.0.0.1:${port}/x.txt`, `http://2130706433:${port}/x.txt`, `http://0x7f000001:${port}/x.txt`, `http://0x7f.1:${port}/x.txt`,
  `http://0177.0.0.1:${port}/x.txt`, `http://127.1:${port}/x.txt`, `http://localhost:${port}/x.txt`,
  `http://[::1]:${port}/x.txt`, `http://[::ffff:127.0.0.1]:${port}/x.txt`, `http://[0:0:0:0:0:ffff:7f00:1]:${port}/x.txt`,
  `http://[::ffff:7f00:1]:${port}/x.txt`, `http://[::127.0.0.1]:${port}/x.txt`, `http://[64:ff9b::7f00:1]:${port}/x.txt`,
  `http://[2002:7f00:1::]:${port}/x.txt`, `http://[2001:0:7f00:1::]:${port}/x.txt`, `http://[::ffff:0:7f00:1]:${port}/x.txt`,
  'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:a9fe:a9fe]/latest/meta-data/', 'http://[::ffff:169.254.169.254]/x',
  'http://10.0.0.1/x', 'http://172.16.0.1/x', 'http://192.168.1.1/x', 'http://100.64.0.1/x', 'http://0.0.0.0/x',
  'http://[fd00::1]/x', 'http://[fe80::1]/x', 'http://[::]/x', 'http://[ff02::1]/x',
]

describe('every spelling of an internal address is refused', () => {
  test('the classifier', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '::7f00:1', '64:ff9b::a9fe:a9fe', '2002:a9fe:a9fe::1', '2001:0:a9fe:a9fe::1', 'fc00::1', 'fe80::1', '169.254.169.254', '10.1.2.3']) {
      expect([a, internalReason(a) !== undefined]).toEqual([a, true])
    }
    for (const a of ['8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1']) expect([a, internalReason(a)]).toEqual([a, undefined])
  })

  test('at insert: each form is FORBIDDEN, nothing is stored, the internal server is never asked', async () => {
    const docs = await tenant.createTable('user_1/docs', { doc: 'document' })
    const imgs = await tenant.createTable('user_1/imgs', { img: 'image' })
    const before = asked
    for (const url of forms(internal.port!)) {
      expect([url, (await outcome(docs.insert([{ doc: url }]))).slice(0, 9)]).toEqual([url, 'FORBIDDEN'])
      expect([url, (await outcome(imgs.insert([{ img: url }]))).slice(0, 9)]).toEqual([url, 'FORBIDDEN'])
    }
    expect(await docs.count()).toBe(0)
    expect(await imgs.count()).toBe(0)
    expect(asked).toBe(before)
  })

  test('through the media route: bytes, thumbnails and text previews of a URL an admin stored', async () => {
    const docs = await admin.createTable('user_1/admin_docs', { doc: 'document' })
    const imgs = await admin.createTable('user_1/admin_imgs', { img: 'image' })
    await docs.insert([{ doc: `http://[::ffff:127.0.0.1]:${internal.port}/notes.txt` }])
    await imgs.insert([{ img: `http://0x7f.1:${internal.port}/dog.jpg` }])
    // The references as stored (URLs are kept in their parsed form).
    const docUrl = String((await docs.collect()).rows[0]!.doc)
    const imgUrl = String((await imgs.collect()).rows[0]!.img)
    // The admin may fetch it (the control: the internal server answers).
    const mine = await admin.http.raw('GET', `/api/v1/tables/user_1/admin_docs/-/media?column=doc&ref=${encodeURIComponent(docUrl)}`)
    expect(await mine.text()).toBe(SECRET)
    for (const q of [
      `/api/v1/tables/user_1/admin_docs/-/media?column=doc&ref=${encodeURIComponent(docUrl)}`,
      `/api/v1/tables/user_1/admin_docs/-/media?column=doc&preview=text&ref=${encodeURIComponent(docUrl)}`,
      `/api/v1/tables/user_1/admin_imgs/-/media?column=img&ref=${encodeURIComponent(imgUrl)}`,
      `/api/v1/tables/user_1/admin_imgs/-/media?column=img&w=64&ref=${encodeURIComponent(imgUrl)}`,
    ]) {
      const r = await tenant.http.raw('GET', q)
      const text = await r.text()
      expect([q, r.status]).toEqual([q, 403])
      expect(text).not.toContain(SECRET)
    }
  })

  test('inside expressions: image functions and similarity on a literal URL', async () => {
    const t = await tenant.createTable('user_1/one', { id: 'int' })
    await t.insert([{ id: 1 }])
    for (const url of [`http://127.1:${internal.port}/dog.jpg`, `http://[::ffff:7f00:1]:${internal.port}/dog.jpg`, 'http://[::ffff:a9fe:a9fe]/x.jpg']) {
      const q = { table: 'user_1/one', select: [{ name: 't', expr: { fn: 'image_thumbnail', args: [{ lit: url, type: 'image' }], opts: { size: 16 } } }] }
      const got = await outcome(tenant.http.request('POST', '/api/v1/query', q))
      expect([url, got.slice(0, 9)]).toEqual([url, 'FORBIDDEN'])
    }
  })
})

describe("a tenant's stored expression keeps the tenant's limits, whoever writes or reads", () => {
  // Found by exploratory testing: a tenant's computed column that builds a URL to the server's own network was refused
  // for the tenant's own inserts but fetched for an admin's, and the tenant read the answer back.
  test('stored and unstored columns, admin and in-process writers and readers', async () => {
    const path = 'user_1/deputy'
    await tenant.createTable(path, { id: 'int', text: 'string?' })
    const url = { fn: 'concat', args: [{ lit: `http://127.0.0.1:${internal.port}/dog.jpg?` }, { col: 'text' }] }
    const add = (body: unknown) => tenant.http.request('POST', `/api/v1/tables/${path}/-/columns`, body)
    await add({ name: 'w', expr: { fn: 'image_width', args: [url] }, onError: 'ignore' })
    await add({ name: 'shout', expr: { fn: 'upper', args: [{ col: 'text' }] }, onError: 'ignore' })
    await add({ name: 'w_read', expr: { fn: 'image_width', args: [url] }, stored: false })
    const before = asked
    const refused = await outcome(admin.http.request('POST', `/api/v1/tables/${path}/-/rows`, { rows: [{ id: 1, text: 'by_admin' }] }))
    expect(refused).toContain("column 'w', defined by token 'u1', may not have the server fetch")
    await admin.http.request('POST', `/api/v1/tables/${path}/-/rows`, { rows: [{ id: 1, text: 'by_admin' }], onError: 'ignore' })
    await (await db.getTable(path)).insert([{ id: 2, text: 'in_process' }], { onError: 'ignore' })
    const rows = (await tenant.http.request<{ rows: Record<string, unknown>[] }>('POST', '/api/v1/query', {
      table: path, select: { id: { col: 'id' }, w: { col: 'w' }, err: { col: 'w', prop: 'errormsg' }, shout: { col: 'shout' } }, orderBy: [{ expr: { col: 'id' } }],
    })).rows
    expect(rows.map((r) => [r.id, r.w, r.shout])).toEqual([[1, null, 'BY_ADMIN'], [2, null, 'IN_PROCESS']])
    for (const r of rows) expect(String(r.err)).toContain("column 'w', defined by token 'u1', may not have the server fetch")
    // The unstored column is computed for its reader: an admin's read and an in-process one stay within u1's limits.
    const adminRead = await outcome(admin.http.request('POST', '/api/v1/query', { table: path, select: { w: { col: 'w_read' } } }))
    expect(adminRead).toContain("defined by token 'u1', may not have the server fetch")
    expect(await outcome((await db.getTable(path)).select({ w: (await db.getTable(path)).c.w_read }).collect())).toContain('FORBIDDEN')
    expect(asked).toBe(before)
    // The control: the admin's own expression reaches the same server.
    const own = await admin.http.request<{ rows: Record<string, unknown>[] }>('POST', '/api/v1/query', { table: path, select: { w: { fn: 'image_width', args: [url] } }, limit: 1 })
    expect(own.rows[0]!.w).toBe(96)
    expect(asked).toBe(before + 1)
  })
})

describe('the outbound fetcher', () => {
  // 127.0.0.1 plays a public host; everything else internal is internal.
  const publicLoopback = (a: string) => (a === '127.0.0.1' ? undefined : internalReason(a))
  const tenantAccess = { localRoots: [] as string[], who: "token 'u1'" }
  const target = () => join(dir, `f${Math.random().toString(36).slice(2)}`)

  test('a redirect into the internal network is refused at the hop that goes there, however many hops before it', async () => {
    for (const path of ['/to-inside', '/redirect/3']) {
      const file = target()
      const got = await outcome(withMediaAccess(tenantAccess, () => downloadOutbound(`http://127.0.0.1:${internal.port}${path}`, file, { classify: publicLoopback })))
      expect(got).toMatch(/^FORBIDDEN: .*127\.0\.0\.2 is a loopback address/)
      expect(existsSync(file)).toBe(false)
    }
    // Allowed private reach: the same chain arrives (the control).
    const file = target()
    await downloadOutbound(`http://127.0.0.1:${internal.port}/redirect/3`, file, { allowPrivate: true })
    expect(readFileSync(file, 'utf8')).toBe(SECRET)
  })

  test('more than 5 redirects is an error', async () => {
    expect(await outcome(downloadOutbound(`http://127.0.0.1:${internal.port}/redirect/9`, target(), { allowPrivate: true }))).toMatch(/more than 5 redirects \(limit\)/)
  })

  test('the host is resolved once and the checked address is the one connected to (no rebinding)', async () => {
    let calls = 0
    const answers = ['127.0.0.1', '127.0.0.2']
    const resolve = async () => [answers[Math.min(calls++, 1)]!]
    const file = target()
    const r = await withMediaAccess(tenantAccess, () => downloadOutbound(`http://rebind.test:${internal.port}/host`, file, { resolve, classify: publicLoopback }))
    expect(calls).toBe(1)
    expect(readFileSync(file, 'utf8')).toBe(`rebind.test:${internal.port}`) // the URL's own Host header
    expect(r.url).toBe(`http://rebind.test:${internal.port}/host`)
    // A name answering with any internal address is refused.
    expect(await outcome(withMediaAccess(tenantAccess, () => downloadOutbound(`http://mixed.test:${internal.port}/`, target(), { resolve: async () => ['127.0.0.1', '10.0.0.7'], classify: publicLoopback })))).toMatch(/^FORBIDDEN: .*10\.0\.0\.7/)
  })

  test('a size cap by Content-Length and by counting (chunked), the partial file removed', async () => {
    for (const path of ['/big', '/big-chunked']) {
      const file = target()
      expect(await outcome(downloadOutbound(`http://127.0.0.1:${internal.port}${path}`, file, { allowPrivate: true, maxBytes: 1024 * 1024 }))).toMatch(/more than 1048576 \(limit\)|more than 1048576 bytes \(limit\)/)
      expect(existsSync(file)).toBe(false)
    }
  })

  test('a total timeout', async () => {
    const start = Date.now()
    expect(await outcome(downloadOutbound(`http://127.0.0.1:${internal.port}/slow`, target(), { allowPrivate: true, totalTimeoutMs: 300 }))).toMatch(/within 300 ms \(limit\)/)
    expect(Date.now() - start).toBeLessThan(3_000)
  })

  test('the media cache: capped downloads leave nothing behind; what was fetched with private reach is kept apart', async () => {
    const cacheDir = join(dir, 'cache')
    const cache = new FileCache(cacheDir, { download: { maxBytes: 1024 * 1024 } })
    expect(await outcome(cache.get(`http://127.0.0.1:${internal.port}/big-chunked`))).toMatch(/\(limit\)/)
    expect(cache.keys()).toEqual([])
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([])
    // In-process (private reach) the internal answer is cached; a tenant asking for the same URL does not get it.
    const url = `http://127.0.0.1:${internal.port}/cached.txt`
    expect(readFileSync(await cache.get(url), 'utf8')).toBe(SECRET)
    expect(await withMediaAccess(tenantAccess, async () => cache.has(url))).toBe(false)
    expect(await outcome(withMediaAccess(tenantAccess, () => cache.get(url)))).toMatch(/^FORBIDDEN/)
  })

  test('only http and https; no credentials in URLs', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', `http://user:pw@127.0.0.1:${internal.port}/`]) {
      expect(await outcome(downloadOutbound(url, target(), { allowPrivate: true }))).toMatch(/^INVALID_MEDIA/)
    }
  })
})
