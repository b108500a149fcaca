import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { validateRows } from '../../src/catalog/validate-rows.ts'
import type { TableMd } from '../../src/catalog/metadata.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Values the store refused with a message naming no row or column, or stored changed without a word, through the
// library and the HTTP API: each is now refused before anything is written, naming the row and column, and the table
// is left as it was. And names that plain objects cannot hold as keys, refused where they used to lose a column.

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
})
afterAll(async () => {
  await db.close()
})

/** A raw JSON text body (1e39 and 1e309 cannot be written by JSON.stringify), its status and answer. */
async function send(method: string, path: string, body: string): Promise<{ status: number; body: any }> {
  const res = await app.request(path, { method, body, headers: { 'content-type': 'application/json' } })
  return { status: res.status, body: await res.json() }
}

/** What a call rejected with, as an Error with the store's code. */
const failure = async (p: unknown) => (await rejection(p)) as Error & { code?: string }

const rowsOf = async (path: string) => (await (await db.getTable(path)).orderBy('id').collect()).toObjects()

describe('float32 vectors: finite, within float32 range (bug B)', () => {
  test('library: an infinite or out-of-range element is refused naming row and column; nothing is written', async () => {
    const t = await db.createTable('vec_lib', { id: 'int', v: 'array<float32>[3]?', f: 'float?' })
    for (const bad of [[1, 2, Infinity], [1, 2, -Infinity], [1, 2, 1e39], [1, 2, Number.NaN], [1, 2, 1e-50]]) {
      const e = await failure(t.insert([{ id: 1, v: [1, 0, 0] }, { id: 2, v: bad }]))
      expect(e.message).toMatch(/^row 1, column 'v': array element /)
      expect(e.code).toBe('INVALID_ROW')
    }
    // Ragged arrays (a column without a fixed shape) failed in the store as "malformed JSON array", unnamed.
    const u = await db.createTable('vec_ragged', { id: 'int', a: 'array<float32>?' })
    expect((await failure(u.insert([{ id: 1, a: [[1, 2], [3, 4]] }, { id: 2, a: [[1], [1, 2]] }]))).message).toMatch(/^row 1, column 'a': dimension 1 has length 2 here and 1 in the first element/)
    expect(await u.count()).toBe(0)
    expect(await t.count()).toBe(0)
    // A scalar float still takes the infinities (PostgreSQL float8 holds them) and gives them back.
    await t.insert([{ id: 1, f: Infinity }, { id: 2, f: -Infinity }])
    expect((await rowsOf('vec_lib')).map((r) => r.f)).toEqual([Infinity, -Infinity])
  })

  test('HTTP: 1e39 in a float32 vector is a 400 naming row and column, and similarity search keeps working', async () => {
    let r = await send('POST', '/api/v1/tables', JSON.stringify({ path: 'vec_http', schema: { id: 'int', score: 'float?', vec: 'array<float32>[3]?' }, primaryKey: 'id' }))
    expect(r.status).toBe(201)
    r = await send('POST', '/api/v1/tables/vec_http/-/rows', '{"rows":[{"id":1,"vec":[1,0,0]},{"id":2,"vec":[0,1,0]}]}')
    expect(r.status).toBe(201)
    r = await send('POST', '/api/v1/tables/vec_http/-/indexes', '{"column":"vec","name":"v"}')
    expect(r.status).toBeLessThan(300)
    for (const vec of ['[1,2,1e39]', '[1,2,-1e39]', '[1,2,1e309]']) {
      r = await send('POST', '/api/v1/tables/vec_http/-/rows', `{"rows":[{"id":3,"score":1,"vec":${vec}}]}`)
      expect(r.status).toBe(400)
      expect(r.body.error.message).toMatch(/^row 0, column 'vec': array element -?(1e\+39|Infinity)/)
    }
    const sim = '{"fn":"similarity","args":[{"col":"vec"}],"opts":{"query":{"vector":[1,0,0]}}}'
    r = await send('POST', '/api/v1/query', `{"table":"vec_http","orderBy":[{"expr":${sim},"desc":true}],"limit":2,"select":{"id":{"col":"id"}}}`)
    expect(r.status).toBe(200)
    expect(r.body.rows).toEqual([{ id: 1 }, { id: 2 }])
  })
})

describe('scalar float infinities: kept by the library, refused over HTTP', () => {
  // JSON.parse reads 1e309 as Infinity: the store kept it, and every JSON answer gave it back as null.
  test('HTTP: 1e309 and -1e309 in a float column are 400s naming row and column on insert, PATCH and batch update', async () => {
    expect((await send('POST', '/api/v1/tables', '{"path":"inf_http","schema":{"id":"int","x":"float?"},"primaryKey":"id"}')).status).toBe(201)
    expect((await send('POST', '/api/v1/tables/inf_http/-/rows', '{"rows":[{"id":1,"x":1.5}]}')).status).toBe(201)
    const refused = (r: { status: number; body: any }, where: string, value: string) => {
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([400, 'INVALID_ROW', expect.stringContaining(`${where}: a number beyond ±1.7976931348623157e+308 reads as ${value}`)])
      expect(r.body.error.message).toContain('the HTTP API takes finite numbers only')
    }
    refused(await send('POST', '/api/v1/tables/inf_http/-/rows', '{"rows":[{"id":2,"x":2},{"id":3,"x":1e309}]}'), "row 1, column 'x'", 'Infinity')
    refused(await send('POST', '/api/v1/tables/inf_http/-/rows', '{"rows":[{"id":2,"x":-1e309}]}'), "row 0, column 'x'", '-Infinity')
    refused(await send('PATCH', '/api/v1/tables/inf_http/-/rows', '{"values":{"x":1e309}}'), "update, column 'x'", 'Infinity')
    refused(await send('POST', '/api/v1/tables/inf_http/-/batch-update', '{"rows":[{"id":1,"x":-1e309}]}'), "row 0, column 'x'", '-Infinity')
    refused(await send('POST', '/api/v1/tables/inf_http/-/batch-update', '{"rows":[{"id":9,"x":1e309}],"ifNotExists":"insert"}'), "row 0, column 'x'", 'Infinity')
    // Nothing was written: the one row reads back as it was, over HTTP and in the library.
    expect((await (await app.request('/api/v1/tables/inf_http/-/rows')).json() as any).rows).toEqual([{ id: 1, x: 1.5 }])
    expect(await rowsOf('inf_http')).toEqual([{ id: 1, x: 1.5 }])
    // The largest finite double still goes in and comes back as sent.
    expect((await send('POST', '/api/v1/tables/inf_http/-/rows', '{"rows":[{"id":2,"x":1.7976931348623157e308},{"id":3,"x":-1.7976931348623157e308}]}')).status).toBe(201)
    expect((await (await app.request('/api/v1/tables/inf_http/-/rows')).json() as any).rows).toEqual([{ id: 1, x: 1.5 }, { id: 2, x: Number.MAX_VALUE }, { id: 3, x: -Number.MAX_VALUE }])
  })

  test('library: insert, update and batch update keep infinities in a float column and read them back as stored', async () => {
    const t = await db.createTable('inf_lib', { id: 'int', x: 'float?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, x: Infinity }, { id: 2, x: -Infinity }, { id: 3, x: 0 }])
    await t.update({ x: -Infinity }, { where: t.c.id.eq(3) })
    await t.batchUpdate([{ id: 1, x: -Infinity }, { id: 4, x: Infinity }], { ifNotExists: 'insert' })
    expect((await rowsOf('inf_lib')).map((r) => r.x)).toEqual([-Infinity, -Infinity, -Infinity, Infinity])
    // NaN stays refused, naming row and column.
    expect((await failure(t.insert([{ id: 5, x: Number.NaN }]))).message).toMatch(/^row 0, column 'x': NaN is not a storable number/)
  })
})

describe('calendar days on insert (bugs E, F)', () => {
  test('a day the month lacks is refused in date and timestamp columns, naming row and column', async () => {
    const t = await db.createTable('days', { id: 'int', d: 'date?', ts: 'timestamp?' })
    let e = await failure(t.insert([{ id: 0 }, { id: 1, d: '2026-02-30' }]))
    expect(e.message).toBe(`row 1, column 'd': not a calendar day (February 2026 has 28 days) for type date?, got "2026-02-30"`)
    e = await failure(t.insert([{ id: 0 }, { id: 1, ts: '2026-02-30T00:00:00Z' }]))
    expect(e.message).toBe(`row 1, column 'ts': not a calendar day (February 2026 has 28 days) for type timestamp?, got "2026-02-30T00:00:00Z"`)
    e = await failure(t.insert([{ id: 0, ts: '2026-04-31 12:00' }]))
    expect(e.message).toStartWith(`row 0, column 'ts': not a calendar day (April 2026 has 30 days)`)
    // Year 0: the store refused it as text, unnamed; a timestamp before year 1 read back as null after a binary COPY.
    e = await failure(t.insert([{ id: 0, d: '0000-01-01' }]))
    expect(e.message).toStartWith(`row 0, column 'd': not a supported date (year 0000`)
    e = await failure(t.insert(Array.from({ length: 3000 }, (_, id) => ({ id, ts: id === 2999 ? '0000-06-01T00:00:00Z' : null }))))
    expect(e.message).toStartWith(`row 2999, column 'ts': a timestamp before year 1`)
    e = await failure(t.update({ d: '2026-06-31' }))
    expect(e.message).toBe(`update, column 'd': not a calendar day (June 2026 has 30 days) for type date?`)
    expect(await t.count()).toBe(0)
    await t.insert([{ id: 1, d: '2024-02-29', ts: '2024-02-29T12:00:00Z' }])
    expect(await rowsOf('days')).toEqual([{ id: 1, d: '2024-02-29', ts: new Date('2024-02-29T12:00:00Z') }])
  })
})

describe('text the store cannot hold (bug G)', () => {
  test('library: U+0000 and lone surrogates in string and json values are refused naming row and column', async () => {
    const t = await db.createTable('texts', { id: 'int', s: 'string?', j: 'json?', vec: 'array<float32>[2]?' }, { primaryKey: 'id' })
    await t.insert([{ id: 1, s: 'kept' }])
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ id: 2, s: 'nul\u0000byte' }, /^row 1, column 's': contains U\+0000 \(NUL\) at character 3/],
      [{ id: 2, j: { k: 'x\u0000' } }, /^row 1, column 'j': a string in it contains U\+0000/],
      [{ id: 2, j: { ['k\u0000']: 1 } }, /^row 1, column 'j': a key in it contains U\+0000/],
      // Stored as U+FFFD without a word before; on this table (a vector column) refused by jsonb, naming nothing.
      [{ id: 2, s: 'lone \ud800' }, /^row 1, column 's': contains a lone UTF-16 surrogate \(U\+D800\) at character 5, which is not valid Unicode/],
      [{ id: 2, j: ['\udc00'] }, /^row 1, column 'j': a string in it contains a lone UTF-16 surrogate/],
    ]
    for (const [row, want] of cases) expect((await failure(t.insert([{ id: 3, s: 'fine' }, row]))).message).toMatch(want)
    expect((await failure(t.update({ s: 'x\u0000y' }))).message).toMatch(/^update, column 's': contains U\+0000/)
    expect((await failure(t.batchUpdate([{ id: 1, s: 'x\ud800' }]))).message).toMatch(/^row 0, column 's': contains a lone UTF-16 surrogate/)
    expect(await rowsOf('texts')).toEqual([{ id: 1, s: 'kept', j: null, vec: null }])
    // Surrogate pairs are text: stored as given.
    await t.insert([{ id: 2, s: '😀 é', j: { '😀': ['漢字'] } }])
    expect((await rowsOf('texts'))[1]).toMatchObject({ s: '😀 é', j: { '😀': ['漢字'] } })
  })

  test('HTTP: insert and PATCH are 400s naming row and column', async () => {
    expect((await send('POST', '/api/v1/tables', '{"path":"texts_http","schema":{"id":"int","b":"string?","meta":"json?"},"primaryKey":"id"}')).status).toBe(201)
    let r = await send('POST', '/api/v1/tables/texts_http/-/rows', '{"rows":[{"id":1,"b":"ok"},{"id":2,"b":"nul\\u0000byte"}]}')
    expect([r.status, r.body.error.message]).toEqual([400, expect.stringMatching(/^row 1, column 'b': contains U\+0000/)])
    r = await send('POST', '/api/v1/tables/texts_http/-/rows', '{"rows":[{"id":1,"meta":{"k":"x\\u0000"}}]}')
    expect([r.status, r.body.error.message]).toEqual([400, expect.stringMatching(/^row 0, column 'meta': a string in it contains U\+0000/)])
    r = await send('POST', '/api/v1/tables/texts_http/-/rows', '{"rows":[{"id":1,"b":"lone \\ud800"}]}')
    expect([r.status, r.body.error.message]).toEqual([400, expect.stringMatching(/^row 0, column 'b': contains a lone UTF-16 surrogate/)])
    r = await send('PATCH', '/api/v1/tables/texts_http/-/rows', '{"values":{"b":"x\\u0000y"}}')
    expect([r.status, r.body.error.message]).toEqual([400, expect.stringMatching(/column 'b': contains U\+0000/)])
    expect(await rowsOf('texts_http')).toEqual([])
  })
})

describe("reserved names: '__proto__', 'constructor', 'prototype' (bug A)", () => {
  test('HTTP: a table schema, a new column, update values and query outputs with such a name are refused, not dropped', async () => {
    for (const name of ['__proto__', 'constructor', 'prototype']) {
      let r = await send('POST', '/api/v1/tables', `{"path":"res_${name.replaceAll('_', '')}","schema":{"id":"int","${name}":"string?"}}`)
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([400, 'INVALID_NAME', expect.stringContaining(`invalid column name "${name}": a reserved name`)])
      expect((await failure(db.getTable(`res_${name.replaceAll('_', '')}`))).code).toBe('TABLE_NOT_FOUND')
    }
    expect((await send('POST', '/api/v1/tables', '{"path":"res_ok","schema":{"id":"int","s":"string?"},"primaryKey":"id"}')).status).toBe(201)
    let r = await send('POST', '/api/v1/tables/res_ok/-/columns', '{"name":"__proto__","type":"string?"}')
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_NAME'])
    expect(Object.keys((await db.getTable('res_ok')).schema())).toEqual(['id', 's'])
    expect((await send('POST', '/api/v1/tables/res_ok/-/rows', '{"rows":[{"id":1,"s":"x"}]}')).status).toBe(201)
    r = await send('PATCH', '/api/v1/tables/res_ok/-/rows', '{"values":{"__proto__":"y"}}')
    expect([r.status, r.body.error.code]).toEqual([400, 'INVALID_NAME'])
    for (const select of ['{"__proto__":{"col":"id"}}', '{"constructor":{"col":"id"}}', '[{"name":"__proto__","expr":{"col":"id"}}]']) {
      r = await send('POST', '/api/v1/query', `{"table":"res_ok","select":${select}}`)
      expect([r.status, r.body.error.code, r.body.error.message]).toEqual([400, 'INVALID_NAME', expect.stringContaining('invalid output name')])
    }
    // Ordinary names, prototype-method names among them, still work.
    r = await send('POST', '/api/v1/query', '{"table":"res_ok","select":{"toString":{"col":"id"},"s":{"col":"s"}}}')
    expect([r.status, r.body.rows]).toEqual([200, [{ toString: 1, s: 'x' }]])
  })

  test("rows of a table that has a '__proto__' column (made before the name was refused) are refused, not stored as [object Object]", () => {
    const md = { columns: [{ id: 1, name: 'id', type: 'int' }, { id: 2, name: '__proto__', type: 'string?' }] } as unknown as TableMd
    for (const rows of [[{ id: 1, ['__proto__']: 'x' }], [{ id: 1 }]]) {
      expect(() => validateRows(md, 'legacy', rows)).toThrow("column '__proto__' of 'legacy' cannot be written: the name is reserved")
    }
    expect(validateRows(md, 'legacy', [])).toEqual([])
  })
})
