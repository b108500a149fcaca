import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import type { RemoteTessera } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { isInternalAddress } from '../../src/media/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb, MODELS_DIR, modelsMissing, tempDir } from '../support/db.ts'
import { jpeg } from '../media/fixtures.ts'

// A tenant's token must not make the server read its local files: not by inserting a path into a media column and
// fetching it back through the media route, not through a media function, not by a similarity query. Only folders
// the operator opened (mediaRoots / tessera serve --media-root) are readable by path; admins read any path.

let db: Tessera
let app: ReturnType<typeof createApp>
let admin: RemoteTessera
let tenant: RemoteTessera
let tenantToken: string
const dir = tempDir('tessera-media-access-')
const served = join(dir, 'served')
const secret = join(dir, 'secret.txt')
const secretImage = join(dir, 'secret.jpg')

beforeAll(async () => {
  mkdirSync(served)
  writeFileSync(secret, 'the server-side secret')
  writeFileSync(secretImage, await jpeg(96, 64, '#802020'))
  writeFileSync(join(served, 'eagle.jpg'), await jpeg(96, 64, '#208020'))
  writeFileSync(join(served, 'notes.md'), '# Notes\nshared on purpose')
  symlinkSync(secret, join(served, 'escape.md')) // a link inside the root pointing out of it
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  const as = (token: string) => connect('http://t', { token, fetch: async (r) => app.fetch(r) })
  app = createApp(db, { authenticate: tokens.authenticate, tokens, mediaRoots: [served] })
  admin = as(await tokens.create('root', { admin: true }))
  await admin.createDir('user_1')
  tenantToken = (await admin.http.request<{ token: string }>('POST', '/api/v1/tokens', { name: 'u1', scopes: [{ prefix: 'user_1', access: 'write' }] })).token
  tenant = as(tenantToken)
})
afterAll(async () => { await db.close() })

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`)

describe('media URLs over HTTP', () => {
  test("a tenant's URL may not reach the server's own network; an admin's may, and so may the tenant's when allowed", async () => {
    const local = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('internal only: credentials', { headers: { 'content-type': 'text/plain' } }) })
    try {
      const url = `http://127.0.0.1:${local.port}/meta.txt`
      const docs = await tenant.createTable('user_1/urls', { doc: 'document' })
      expect(await code(docs.insert([{ doc: url }]))).toMatch(/^FORBIDDEN: row 0, column 'doc': token 'u1' may not have the server fetch .*127\.0\.0\.1.*own network/)
      expect(await code(docs.insert([{ doc: `http://localhost:${local.port}/meta.txt` }]))).toMatch(/^FORBIDDEN: .*localhost resolves to (127\.0\.0\.1|::1), a loopback address on the server's own network/)
      expect(await docs.count()).toBe(0)
      // An admin may (and what it stored is still not fetched again for the tenant through the media route).
      await (await admin.getTable('user_1/urls')).insert([{ doc: url }])
      expect((await tenant.http.raw('GET', `/api/v1/tables/user_1/urls/-/media?column=doc&ref=${encodeURIComponent(url)}`)).status).toBe(403)
      // An operator who allows private URLs lets the tenant's through.
      const tokens = new TokenStore(db.driver)
      const allowing = createApp(db, { authenticate: tokens.authenticate, tokens, mediaAllowPrivate: true })
      const sameTenant = connect('http://t', { token: tenantToken, fetch: async (r) => allowing.fetch(r) })
      await (await sameTenant.getTable('user_1/urls')).insert([{ doc: url }])
      const served = await sameTenant.http.raw('GET', `/api/v1/tables/user_1/urls/-/media?column=doc&ref=${encodeURIComponent(url)}`)
      expect(await served.text()).toBe('internal only: credentials')
    } finally {
      local.stop(true)
    }
  })

  test("a tenant may not point openai functions at another base URL (the server's API key would go there)", async () => {
    const q = { table: 'user_1/urls', select: [{ name: 'a', expr: { fn: 'openai.chat', args: [{ lit: 'hi' }], opts: { model: 'm', baseUrl: 'https://collector.example/v1' } } }] }
    expect(await code(tenant.http.request('POST', '/api/v1/query', q))).toMatch(/^FORBIDDEN: select\[0\]\.expr: token 'u1' may not set opts\.baseUrl of openai\.chat\(\)/)
    const docs = await tenant.getTable('user_1/urls')
    expect(await code(docs.addComputedColumn('emb', { fn: 'openai.embeddings', args: [{ col: 'doc' }], opts: { model: 'm', baseUrl: 'http://x' } } as never))).toMatch(/^FORBIDDEN/)
  })

  test("a background job keeps its starter's access, also when resumed outside any request (after a restart)", async () => {
    const t = await tenant.createTable('user_1/paths', { p: 'string' })
    await t.insert([{ p: secretImage }])
    const job = await tenant.jobs.start({ table: t, column: 'thumb', expr: { fn: 'image_thumbnail', args: [{ col: 'p' }], opts: { size: 16 } } as never, onError: 'abort' })
    const failed = await tenant.jobs.wait(job.id, { pollMs: 20 })
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringContaining("token 'u1' may not read the server's local file") })
    // In-process resume (as `tessera serve` does at start) has no request around it: the stored access still applies.
    const inProcess = (await db.jobs.list()).find((j) => j.key === job.id)!
    await db.jobs.resume(inProcess.id)
    expect(await db.jobs.wait(inProcess.id)).toMatchObject({ status: 'failed', error: expect.stringContaining("token 'u1'") })
  })

  test('internal addresses are recognised, IPv4 and IPv6', () => {
    for (const a of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '224.0.0.1']) {
      expect([a, isInternalAddress(a)]).toEqual([a, true])
    }
    for (const a of ['8.8.8.8', '172.32.0.1', '192.169.0.1', '100.128.0.1', '2001:4860:4860::8888', '::ffff:8.8.8.8']) {
      expect([a, isInternalAddress(a)]).toEqual([a, false])
    }
  })
})

describe('local media paths over HTTP', () => {
  test('a tenant cannot insert a server path outside the media roots, nor learn whether it exists', async () => {
    const docs = await tenant.createTable('user_1/docs', { doc: 'document' })
    const refused = await code(docs.insert([{ doc: secret }]))
    expect(refused).toMatch(/^FORBIDDEN: row 0, column 'doc': token 'u1' may not read the server's local file .*secret\.txt.*--media-root/)
    expect(await code(docs.insert([{ doc: join(dir, 'no-such-file.txt') }]))).toMatch(/^FORBIDDEN/) // same answer: no probing
    expect(await code(docs.insert([{ doc: `file://${secret}` }]))).toMatch(/^FORBIDDEN/)
    expect(await code(docs.insert([{ doc: join(served, 'escape.md') }]))).toMatch(/^FORBIDDEN/) // symlink out of the root
    expect(await docs.count()).toBe(0)
  })

  test('paths under a media root work for a tenant; bytes and data: URLs always do', async () => {
    const docs = await tenant.getTable('user_1/docs')
    await docs.insert([{ doc: join(served, 'notes.md') }, { doc: new TextEncoder().encode('# Uploaded\nbytes') }])
    expect(await docs.count()).toBe(2)
    const body = await tenant.http.raw('GET', `/api/v1/tables/user_1/docs/-/media?column=doc&ref=${encodeURIComponent(join(served, 'notes.md'))}`)
    expect(await body.text()).toContain('shared on purpose')
  })

  test('a path an admin stored is still not served to a tenant unless it is under a root', async () => {
    await admin.createTable('user_1/mixed', { doc: 'document' }).then((t) => t.insert([{ doc: secret }]))
    const res = await tenant.http.raw('GET', `/api/v1/tables/user_1/mixed/-/media?column=doc&ref=${encodeURIComponent(secret)}`)
    expect(res.status).toBe(403)
    expect(await res.text()).not.toContain('server-side secret')
    const mine = await admin.http.raw('GET', `/api/v1/tables/user_1/mixed/-/media?column=doc&ref=${encodeURIComponent(secret)}`)
    expect(await mine.text()).toBe('the server-side secret')
  })

  test('media functions and similarity queries follow the same rule', async () => {
    // image.thumbnail on a path literal would hand back the picture as a data: URL
    const thumb = { table: 'user_1/docs', select: [{ name: 't', expr: { fn: 'image_thumbnail', args: [{ lit: secretImage }], opts: { size: 32 } } }], limit: 1 }
    expect(await code(tenant.http.request('POST', '/api/v1/query', thumb))).toMatch(/^FORBIDDEN: .*secret\.jpg/)
    const fromRoot = { ...thumb, select: [{ name: 't', expr: { fn: 'image_thumbnail', args: [{ lit: join(served, 'eagle.jpg') }], opts: { size: 32 } } }] }
    expect(((await tenant.http.request<any>('POST', '/api/v1/query', fromRoot)).rows[0].t as string)).toMatch(/^data:image\//)
    // Streamed results (NDJSON) and exports run under the same rule, though they are produced after the handler returns.
    const res = await tenant.http.raw('POST', '/api/v1/query?batchSize=1', thumb, { accept: 'application/x-ndjson' })
    expect(res.status).toBe(403) // refused before the first row: an ordinary error response
    expect(await res.text()).not.toContain('data:image')
    const q = (await tenant.getTable('user_1/docs')).select({ t: { fn: 'image_thumbnail', args: [{ lit: secretImage }], opts: { size: 32 } } } as never)
    expect(await code((async () => { for await (const _ of q.stream({ batchSize: 1 })) { /* drain */ } })())).toMatch(/^FORBIDDEN/)
    // An export that fails mid-way aborts its stream (a read error on the client), never a clean partial file.
    const exported = await tenant.http.raw('POST', '/api/v1/export?format=jsonl', thumb).then((r) => r.text()).catch((e) => `aborted: ${e}`)
    expect(exported).not.toContain('data:image')
  })

  test.skipIf(!!modelsMissing('mobilenetv2/mobilenetv2-12-int8.onnx'))('similarity queries by an image path follow the same rule', async () => {
    const photos = await admin.createTable('user_1/photos', { id: 'int', photo: 'image' })
    await photos.insert([{ id: 1, photo: new Uint8Array(readFileSync(join(served, 'eagle.jpg'))) }])
    await photos.addEmbeddingIndex('photo', { embed: { fn: 'embed_image', opts: { model: join(MODELS_DIR, 'mobilenetv2/mobilenetv2-12-int8.onnx') }, modality: 'image' } })
    const t = await tenant.getTable('user_1/photos')
    expect(await code(t.orderBy(t.c.photo.similarity({ image: secretImage }), 'desc').limit(1).collect())).toMatch(/^FORBIDDEN/)
    const ok = await t.orderBy(t.c.photo.similarity({ image: join(served, 'eagle.jpg') }), 'desc').limit(1).select('id').collect()
    expect(ok.rows).toEqual([{ id: 1 }])
  })
})
