import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'
import { readVectors } from '../../src/catalog/data-table/index.ts'

// Float arrays (vectors) reach PGlite in COPY's binary form (src/catalog/data-table/rows.ts): what comes back must be
// what went in, bit for bit, in insertion order, through batches, staged steps, failures and a mix of shapes.

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(() => db.close())

test('vectors written in binary come back exactly, in insertion order, through staged steps and after a failed insert', async () => {
  const t = await db.createTable('vecs', { id: 'int', emb: 'array<float32>[3]', pair: 'array<float64>[2,2]?' }, { primaryKey: 'id' })
  const f32 = (x: number) => Math.fround(x)
  const row = (id: number) => ({ id, emb: [f32(id / 7), f32(-id * 1e-3), f32(1e30 / (id + 1))], pair: id % 5 === 0 ? null : [[id / 3, -id], [Number.MIN_VALUE, 1e300]] })
  // 12,000 rows: several 5,000-row statements and many commit steps.
  await t.insert(Array.from({ length: 12_000 }, (_, id) => row(id)))
  const back = (await t.select({ id: t.c.id, emb: t.c.emb, pair: t.c.pair }).collect()).rows
  expect(back.length).toBe(12_000)
  expect(back.map((r) => r.id)).toEqual(Array.from({ length: 12_000 }, (_, id) => id))
  // float4 values print shortest (1e+30): read back as float32 again, they are the values sent.
  const asSent = (r: Record<string, unknown>) => ({ ...r, emb: (r.emb as number[]).map(f32) })
  for (const id of [0, 1, 4_999, 5_000, 11_999]) expect(asSent(back[id]!)).toEqual(row(id))
  // A failing insert (duplicate key) leaves nothing behind; the next one works and its rows are the only new ones.
  expect(await rejection(t.insert([row(12_000), row(3)]))).toMatchObject({ code: expect.any(String) })
  await t.insert([row(12_000), row(12_001)])
  expect((await t.where(t.c.id.ge(11_999)).select({ id: t.c.id, emb: t.c.emb }).collect()).rows.map(asSent)).toEqual([11_999, 12_000, 12_001].map((id) => ({ id, emb: row(id).emb })))
  expect(await t.count()).toBe(12_002)
})

test('a native index reads vectors through binary COPY bit for bit as through base64 rows, build and catch-up pages alike', async () => {
  const t = await db.createTable('vecs_read', { id: 'int', emb: 'array<float32>[24]' }, { primaryKey: 'id' })
  const emb = (id: number) => Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(id * 31 + i) * 10 ** ((i % 9) - 4)))
  await t.insert(Array.from({ length: 1_500 }, (_, id) => ({ id, emb: emb(id) })))
  const after = (await db.driver.query<{ version: number }>(`select version from tessera.tables where id = $1`, [t.id])).rows[0]!.version
  await t.insert(Array.from({ length: 300 }, (_, i) => ({ id: 1_500 + i, emb: emb(1_500 + i) })))
  const upTo = (await db.driver.query<{ version: number }>(`select version from tessera.tables where id = $1`, [t.id])).rows[0]!.version
  const columnId = t.md.columns.find((c) => c.name === 'emb')!.id
  const driver = db.driver
  expect(driver.copyBinaryTo).toBeDefined()
  // The same store without its COPY TO verb: the base64 path.
  const textOnly = { query: driver.query.bind(driver), exec: driver.exec.bind(driver) }
  const readAll = async (via: typeof textOnly, range: { after: number; upTo: number }) => {
    const keys: bigint[] = []
    const vectors: number[] = []
    for (let from = 0; ; ) {
      const page = await readVectors(via, t.id, columnId, 24, range, from, 256)
      keys.push(...page.keys)
      vectors.push(...page.vectors)
      if (page.lastRowId < 0) return { keys, vectors }
      from = page.lastRowId
    }
  }
  for (const range of [{ after: -1, upTo }, { after, upTo }]) {
    const binary = await readAll(driver, range)
    const text = await readAll(textOnly, range)
    expect(binary.keys.length).toBe(range.after < 0 ? 1_800 : 300)
    expect(binary).toEqual(text)
  }
  // The rows as inserted, in _rowid order.
  const all = await readAll(driver, { after: -1, upTo })
  expect(all.vectors.slice(24 * 1_799)).toEqual(emb(1_799))
})
