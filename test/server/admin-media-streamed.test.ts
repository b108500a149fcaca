import { afterAll, expect, test } from 'bun:test'
import { randomBytes } from 'node:crypto'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb } from '../support/db.ts'

// GET /api/v1/admin/media/{key} (what `tessera backup --url` copies the media store through) read each file whole
// into memory before answering; it sends it a slice at a time as it is read now, and a key the store lacks is a 404.

let db: Tessera | undefined
afterAll(() => db?.close())

test('a media store file is sent in slices as it is read, byte for byte; a missing key is a 404', async () => {
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  const admin = await tokens.create('root', { admin: true })
  const app = createApp(db, { authenticate: tokens.authenticate, tokens })
  const bytes = new Uint8Array(randomBytes(3 * 1024 * 1024 + 17))
  const ref = await db.media.store.put(bytes, 'bin')
  const key = ref.slice(db.media.store.refPrefix.length)
  const r = await app.request(`/api/v1/admin/media/${key}`, { headers: { authorization: `Bearer ${admin}` } })
  expect(r.status).toBe(200)
  const reader = r.body!.getReader()
  const slices: Uint8Array[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    slices.push(value)
  }
  expect(slices.length).toBeGreaterThan(4)
  expect(Math.max(...slices.map((s) => s.byteLength))).toBeLessThanOrEqual(256 * 1024)
  expect(Buffer.concat(slices).equals(Buffer.from(bytes))).toBe(true)
  const missing = await app.request(`/api/v1/admin/media/${'0'.repeat(64)}.bin`, { headers: { authorization: `Bearer ${admin}` } })
  expect(missing.status).toBe(404)
})
