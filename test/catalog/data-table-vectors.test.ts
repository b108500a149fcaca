import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

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
