import { afterAll, beforeAll, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// A type given (`schema`, the CLI's --type with strictSchema) for a JSON Lines key that first appears past the
// inference sample was refused as "no column": the sample had not seen it. The user declared it, so the column is
// created with that type (nullable: the sampled records lack it). A key no record of the file has is still refused
// under strictSchema, once the whole file has been read, and nothing is imported.

let db: Tessera
const dir = tempDir('tessera-io-declared-late-')
const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: Error & { code?: string; details?: Record<string, unknown> }) => e)
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const lines = (n: number, late?: Record<string, unknown>) =>
  [...Array.from({ length: n }, (_, i) => JSON.stringify({ id: i })), ...(late ? [JSON.stringify(late)] : [])].join('\n') + '\n'

test('a declared key first seen past the sample becomes a column of that type', async () => {
  const file = join(dir, 'late.jsonl')
  writeFileSync(file, lines(20, { id: 20, score: 7 }))
  for (const [table, strictSchema] of [['late_strict', true], ['late_lib', false]] as const) {
    const r = await importFile(db, table, file, { sampleSize: 5, schema: { score: 'float' }, strictSchema })
    expect(r.schema).toEqual({ id: 'int', score: 'float?' })
    expect(r.rowsInserted).toBe(21)
    const t = await db.getTable(table)
    expect((await t.where(t.c.id.eq(20)).select('score').collect()).rows).toEqual([{ score: 7 }])
  }
})

test('a declared key in no record is refused under strictSchema (short or long file); nothing is imported', async () => {
  const short = join(dir, 'short.jsonl')
  writeFileSync(short, lines(3))
  const long = join(dir, 'long.jsonl')
  writeFileSync(long, lines(20))
  for (const [file, table] of [[short, 'none_short'], [long, 'none_long']] as const) {
    const e = await failure(importFile(db, table, file, { sampleSize: 5, schema: { nocol: 'int' }, strictSchema: true }))
    expect(e?.code).toBe('INVALID_ARGUMENT')
    expect(e?.message).toContain(`has no column 'nocol' to give the type 'int' (its columns: id)`)
    expect(await failure(db.getTable(table))).toMatchObject({ code: 'TABLE_NOT_FOUND' })
  }
})

test("into an existing table, a column the sampled records lack is converted when a later record has it", async () => {
  // It was refused as "unknown column 'score'; 'existing_late' has: id, score".
  const t = await db.createTable('existing_late', { id: 'int', score: 'float?', tag: 'string?' })
  const file = join(dir, 'existing-late.jsonl')
  writeFileSync(file, lines(20, { id: 20, score: 7.5 }))
  const r = await importFile(db, 'existing_late', file, { sampleSize: 5 })
  expect(r.rowsInserted).toBe(21)
  const rows = (await t.orderBy(t.c.id).collect()).rows
  expect(rows[20]).toEqual({ id: 20, score: 7.5, tag: null })
  expect(rows[0]).toEqual({ id: 0, score: null, tag: null })
  // A value the column's type refuses names its line and column, as for a sampled column.
  writeFileSync(file, lines(20, { id: 21, score: 'many' }))
  const bad = await failure(importFile(db, 'existing_late', file, { sampleSize: 5 }))
  expect(bad?.message).toMatch(/line 21, column 'score'/)
  // A key the table does not have is still an unknown column.
  writeFileSync(file, lines(20, { id: 22, other: 1 }))
  expect((await failure(importFile(db, 'existing_late', file, { sampleSize: 5 })))?.message).toMatch(/unknown column 'other'/)
})
