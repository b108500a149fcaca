import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { byteRange } from '../../src/server/byte-range.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { pdf } from '../media/fixtures.ts'
import { dataUrl } from '../console/fixtures.ts'
import { memoryDb } from '../support/db.ts'

// The media route answered every request with the whole file and no Accept-Ranges: a browser could not seek in a long
// video or audio cell without fetching it from the start. It serves one byte range now (206), refuses one past the
// end (416), and sends the whole file for anything it does not read.

describe('byteRange', () => {
  test('reads one range, a suffix and an open end; clamps the end; sends the whole file for what it does not read', () => {
    expect(byteRange('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 })
    expect(byteRange('bytes=900-', 1000)).toEqual({ start: 900, end: 999 })
    expect(byteRange('bytes=-10', 1000)).toEqual({ start: 990, end: 999 })
    expect(byteRange('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 })
    expect(byteRange('bytes=990-5000', 1000)).toEqual({ start: 990, end: 999 })
    expect(byteRange('bytes=1000-', 1000)).toBe('unsatisfiable')
    expect(byteRange('bytes=-0', 1000)).toBe('unsatisfiable')
    for (const whole of [undefined, '', 'bytes=0-1,5-6', 'items=0-1', 'bytes=5-1', 'bytes=-', 'bytes=1234567890123456-']) expect(byteRange(whole, 1000)).toBeUndefined()
  })
})

describe('GET …/-/media with Range', () => {
  let db: Tessera
  let app: ReturnType<typeof createApp>
  let admin = ''
  let ref = ''
  let whole: Uint8Array<ArrayBuffer>
  const get = (range?: string) => app.request(`/api/v1/tables/docs/-/media?column=doc&ref=${encodeURIComponent(ref)}`, { headers: { authorization: `Bearer ${admin}`, ...(range ? { range } : {}) } })
  beforeAll(async () => {
    db = await memoryDb()
    const tokens = new TokenStore(db.driver)
    admin = await tokens.create('admin', { admin: true })
    app = createApp(db, { tokens, authenticate: tokens.authenticate })
    const docs = await db.createTable('docs', { doc: 'document' })
    await docs.insert([{ doc: dataUrl(pdf([['A long report', 'with words'], ['and a second page']]), 'application/pdf') }])
    ref = String((await docs.collect()).rows[0]!.doc)
    const r = await get()
    expect(r.status).toBe(200)
    expect(r.headers.get('accept-ranges')).toBe('bytes')
    whole = new Uint8Array(await r.arrayBuffer())
  })
  afterAll(() => db.close())

  test('a range is a 206 with its bytes, Content-Range and the type of the whole file', async () => {
    const r = await get('bytes=10-49')
    expect(r.status).toBe(206)
    expect(r.headers.get('content-range')).toBe(`bytes 10-49/${whole.byteLength}`)
    expect(r.headers.get('content-type')).toBe('application/pdf')
    expect(new Uint8Array(await r.arrayBuffer())).toEqual(whole.subarray(10, 50))
    const tail = await get('bytes=-16')
    expect(tail.status).toBe(206)
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(whole.subarray(whole.byteLength - 16))
  })

  test('a range past the end is a 416 naming the size; several ranges get the whole file', async () => {
    const past = await get(`bytes=${whole.byteLength}-`)
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe(`bytes */${whole.byteLength}`)
    const several = await get('bytes=0-1,4-5')
    expect(several.status).toBe(200)
    expect(new Uint8Array(await several.arrayBuffer())).toEqual(whole)
  })
})
