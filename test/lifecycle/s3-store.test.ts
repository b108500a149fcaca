import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import S3rver from 's3rver'
import sharp from 'sharp'
import { image, Tessera } from '../../src/index.ts'
import { S3MediaStore } from '../../src/media/index.ts'
import { tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// The S3 media store against a real S3-protocol server (s3rver) on 127.0.0.1: signed requests, multipart upload of
// a large object, listing, a missing object, wrong credentials, and a database storing uploads in the bucket.

let server: { close(): Promise<void> }
let endpoint = ''
const BUCKET = 'tessera-media'

beforeAll(async () => {
  const s = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir('s3rver-'), configureBuckets: [{ name: BUCKET, configs: [] }] })
  const addr = (await s.run()) as { address: string; port: number }
  server = s
  endpoint = `http://127.0.0.1:${addr.port}`
})
afterAll(async () => {
  await server?.close()
})

const store = (o: { keyId?: string; prefix?: string; cacheDir?: string } = {}) =>
  new S3MediaStore({ bucket: BUCKET, prefix: o.prefix ?? 'unit/test', endpoint, accessKeyId: o.keyId ?? 'S3RVER', secretAccessKey: 'S3RVER', cacheDir: o.cacheDir ?? join(tempDir(), 'cache'), partSize: 5 * 1024 * 1024, multipartThreshold: 6 * 1024 * 1024 })

test('put, read through the cache, list, delete; a missing object is NOT_FOUND', async () => {
  const s = store()
  const bytes = new TextEncoder().encode('hello s3')
  const ref = await s.put(bytes, 'txt')
  expect(ref).toBe(`s3://${BUCKET}/unit/test/${createHash('sha256').update(bytes).digest('hex')}.txt`)
  expect(new TextDecoder().decode(await s.open(ref))).toBe('hello s3')
  const file = await s.path(ref)
  expect(readFileSync(file, 'utf8')).toBe('hello s3')
  expect(s.cache.fetches).toBe(1)
  await s.path(ref)
  expect(s.cache.fetches).toBe(1) // the second read came from the local copy
  const listed = []
  for await (const o of s.list()) listed.push(o)
  expect(listed.map((o) => o.ref)).toEqual([ref])
  expect(listed[0]!.bytes).toBe(bytes.length)
  expect(Date.now() - listed[0]!.modifiedMs).toBeLessThan(60_000)

  const missing = `s3://${BUCKET}/unit/test/${'0'.repeat(64)}.png`
  expect(await s.exists(missing)).toBe(false)
  const e1 = await s.open(missing).catch((e) => e)
  expect(e1.code).toBe('NOT_FOUND')
  expect(e1.message).toContain(`media ${missing} is not in the media store s3://${BUCKET}/unit/test`)
  expect((await s.path(missing).catch((e) => e)).code).toBe('NOT_FOUND')
  expect(await s.delete(ref)).toBe(true)
  expect(await s.delete(ref)).toBe(false)
  expect(await s.exists(`s3://${BUCKET}/other/${'1'.repeat(64)}`)).toBe(false) // outside the prefix: not ours
})

test('a large object goes up in parts and comes back whole', async () => {
  const s = store({ prefix: 'big' })
  const bytes = new Uint8Array(randomBytes(13 * 1024 * 1024 + 123))
  const ref = await s.put(bytes, 'bin')
  const back = await s.open(ref)
  expect(back.length).toBe(bytes.length)
  expect(createHash('sha256').update(back).digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'))
})

// s3rver checks the access key id of SigV4 requests but not the signature itself (its v4 check is unimplemented).
test('wrong credentials are refused with a message naming the variables', async () => {
  const s = store({ keyId: 'NOT-A-KEY' })
  const e = await s.put(new TextEncoder().encode('x'), 'txt').catch((x) => x)
  expect(e.code).toBe('UNAVAILABLE')
  expect(e.message).toContain('403 InvalidAccessKeyId')
  expect(e.message).toContain('AWS_SECRET_ACCESS_KEY')
})

test('a database with --media-store s3://… keeps uploads in the bucket, reads them, and collects them after a drop', async () => {
  const saved = { ...process.env }
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_ENDPOINT_URL_S3: endpoint })
  const home = tempDir()
  const db = await Tessera.open({ home, mediaStore: `s3://${BUCKET}/db1` })
  try {
    expect(db.media.store.refPrefix).toBe(`s3://${BUCKET}/db1/`)
    const png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#f00' } }).png().toBuffer()
    const t = await db.createTable('pics', { id: 'int', img: 'image' })
    await t.insert([{ id: 1, img: new Uint8Array(png) }])
    const ref = (await t.collect()).rows[0]!.img as string
    expect(ref.startsWith(`s3://${BUCKET}/db1/`)).toBe(true)
    const w = await t.select({ w: image.width(t.c.img) }).collect()
    expect(w.rows[0]!.w).toBe(8)
    expect((await db.check()).media).toMatchObject({ files: 1, orphans: 0, missing: [] })
    // A computed media column with a destination writes its values there (Pixeltable's destination=).
    await t.addComputedColumn('thumb', image.resize(t.c.img, { width: 4, height: 3 }), { destination: `s3://${BUCKET}/thumbs/` })
    const thumb = (await t.collect()).rows[0]!.thumb as string
    expect(thumb.startsWith(`s3://${BUCKET}/thumbs/`)).toBe(true)
    expect((await t.select({ w: image.width(t.c.thumb) }).collect()).rows[0]!.w).toBe(4)
    await t.insert([{ id: 2, img: new Uint8Array(await sharp({ create: { width: 10, height: 10, channels: 3, background: '#0f0' } }).png().toBuffer()) }])
    expect(((await t.where(t.c.id.eq(2)).collect()).rows[0]!.thumb as string).startsWith(`s3://${BUCKET}/thumbs/`)).toBe(true)
    expect((await db.check()).media).toMatchObject({ files: 4, orphans: 0, missing: [] })
    await expect(await throwing(t.addComputedColumn('n2', t.c.id.add(1), { destination: `s3://${BUCKET}/x` }))).toThrow("destination applies to media columns; 'n2' computes int")
    await db.dropTable('pics')
    const r = await db.gc({ graceSeconds: 0 })
    expect(r.deleted).toBe(4)
    expect(await db.media.store.exists(ref)).toBe(false)
  } finally {
    await db.close()
    process.env = saved
  }
  await expect(await throwing(Tessera.open({ home: tempDir(), mediaStore: 's3://Bad_Bucket' }))).toThrow('is not an S3 location')
})

test('the same store runs under Deno (aws4fetch: fetch + WebCrypto)', async () => {
  const deno = join(import.meta.dir, '../../node_modules/.bin/deno')
  const p = Bun.spawn([deno, 'run', '-A', join(import.meta.dir, 'fixtures/s3-deno.ts'), endpoint, BUCKET, join(tempDir(), 'cache')], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } })
  const [out, errText, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  expect(errText.includes('error') ? errText : '').toBe('')
  expect(code).toBe(0)
  const r = JSON.parse(out.trim().split('\n').at(-1)!)
  expect(r.ref).toStartWith(`s3://${BUCKET}/deno/`)
  expect(r).toMatchObject({ text: 'from deno', listed: [r.ref], deleted: true, exists: false })
})
