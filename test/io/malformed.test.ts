import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table, Tessera, TesseraError } from '../../src/index.ts'
import { exportQuery, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Broken inputs: the error names the file, the line (or row) and the column, and the table is left exactly as it
// was (same version, same rows) however many batches had already been written. Skip mode reports and goes on.

let db: Tessera
let t: Table
const dir = tempDir('tessera-io-bad-')
const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const csvRows = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => `${from + k},name ${from + k}\n`).join('')

/** What the import failed with (test/support/settle.ts; fails when it succeeded). */
const failure = async (p: Promise<unknown>): Promise<TesseraError> => (await rejection(p)) as TesseraError

async function snapshot() {
  return { version: t.version, rows: (await t.orderBy('id').collect()).rows, history: (await t.history()).length }
}

beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('people', { id: 'int', name: 'string' }, { primaryKey: 'id' })
  await t.insert([{ id: 1, name: 'one' }, { id: 2, name: 'two' }])
})
afterAll(async () => {
  await db.close()
})

describe('abort mode (default): nothing is written', () => {
  test('a wrong type in a later batch: earlier batches are undone', async () => {
    const before = await snapshot()
    const p = file('late.csv', `id,name\n${csvRows(10, 17)}oops,bad row\n${csvRows(19, 25)}`)
    const e = await failure(importFile(db, 'people', p, { batchSize: 3 }))
    expect(e.code).toBe('INVALID_ROW')
    expect(e.message).toContain(`${p}, line 10, column 'id': expected an integer`)
    expect(e.message).toContain('"oops"')
    expect(e.details).toMatchObject({ file: p, line: 10, column: 'id' })
    expect(await snapshot()).toEqual(before)
  })

  test('a new table is not left behind', async () => {
    const p = file('late-new.csv', `id,name\n${csvRows(10, 17)}oops,bad row\n`)
    const e = await failure(importFile(db, 'fresh', p, { batchSize: 3, sampleSize: 4 }))
    expect(e.message).toContain(`line 10, column 'id'`)
    expect(e.message).toContain(`'fresh' was not created`)
    expect((await failure(db.getTable('fresh'))).code).toBe('TABLE_NOT_FOUND')
  })

  test('a bad quote names its line', async () => {
    const before = await snapshot()
    const p = file('quote.csv', `id,name\n${csvRows(30, 34)}35,"unterminated\n36,x\n`)
    const e = await failure(importFile(db, 'people', p, { batchSize: 2 }))
    expect(e.message).toContain(p)
    expect(e.message).toMatch(/line \d+: Quote Not Closed/)
    expect(await snapshot()).toEqual(before)
    const p2 = file('quote2.csv', `id,name\n40,"ab"c"\n`)
    const e2 = await failure(importFile(db, 'people', p2))
    expect(e2.message).toContain(`${p2}, line 2: Invalid Closing Quote`)
  })

  test('a wrong field count, an unknown column, a missing required column', async () => {
    expect((await failure(importFile(db, 'people', file('fields.csv', 'id,name\n50,a\n51,b,extra\n')))).message).toContain('line 3: has 3 fields, the header has 2')
    expect((await failure(importFile(db, 'people', file('unknown.csv', 'id,name,age\n50,a,3\n')))).message).toContain(`column 'age' is not in 'people'`)
    expect((await failure(importFile(db, 'people', file('missing.csv', 'id\n50\n')))).message).toContain(`column 'name' of 'people' is required`)
  })

  test('a duplicate key only the store can see (in a later batch) is undone too', async () => {
    const before = await snapshot()
    const p = file('dup.jsonl', [60, 61, 62, 63, 2, 64].map((id) => JSON.stringify({ id, name: `n${id}` })).join('\n') + '\n')
    const e = await failure(importFile(db, 'people', p, { batchSize: 2 }))
    expect(e.code).toBe('CONSTRAINT_VIOLATION')
    expect(e.message).toContain(p)
    expect(await snapshot()).toEqual(before)
  })

  test('a JSON Lines record that does not parse names its line', async () => {
    const before = await snapshot()
    const p = file('broken.jsonl', '{"id": 70, "name": "a"}\n{"id": 71, "name": "b"}\n{"id": 72, "name": \n{"id": 73, "name": "d"}\n')
    const e = await failure(importFile(db, 'people', p, { batchSize: 1 }))
    expect(e.message).toContain(`${p}, line 3: not valid JSON`)
    expect(await snapshot()).toEqual(before)
    const arr = file('broken.json', '[{"id": 80, "name": "a"},\n{"id": 81, "name": "b"}')
    expect((await failure(importFile(db, 'people', arr))).message).toContain('ends before the closing ]')
    expect(await snapshot()).toEqual(before)
  })

  test('a truncated Parquet file fails before writing anything', async () => {
    const before = await snapshot()
    const good = join(dir, 'people.parquet')
    await exportQuery(t, good)
    const bytes = readFileSync(good)
    const cut = file('cut.parquet', '')
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length / 2)))
    const e = await failure(importFile(db, 'people', cut))
    expect(e.code).toBe('INVALID_ARGUMENT')
    expect(e.message).toContain(`${cut}: not a readable Parquet file`)
    expect(await snapshot()).toEqual(before)
  })

  test('another writer during an import keeps its version; the failed import leaves nothing of its own', async () => {
    const before = t.version
    const p = file('race.csv', `id,name\n${csvRows(90, 93)}bad,x\n`)
    let other: Promise<unknown> | undefined
    const e = await failure(importFile(db, 'people', p, {
      batchSize: 2,
      onProgress: () => void (other ??= t.insert({ id: 999, name: 'other writer' })),
    }))
    // The import writes under the next version and holds the table until it ends: the other writer waits for it,
    // then commits its own version; the failure undid every row the import had written.
    expect(e.message).toContain(`line 6, column 'id'`)
    expect(e.message).toContain('nothing was imported')
    await other
    expect(await t.where(t.c.id.ge(90)).collect().then((r) => r.column('id'))).toEqual([999])
    expect(t.version).toBe(before + 1)
    await t.delete({ where: t.c.id.ge(90) })
  })
})

describe('skip mode', () => {
  test('bad rows go to the report with line and column, the rest import', async () => {
    const report = join(dir, 'report.jsonl')
    const p = file('skip.csv', `id,name\n100,a\nxx,b\n102,"c"d"\n103,d\n104,e,extra\n105,f\n2,dup of an existing key\n106,g\n`)
    const r = await importFile(db, 'people', p, { onBadRow: 'skip', reportFile: report, batchSize: 3 })
    expect(r.rowsInserted).toBe(4)
    expect(r.rowsSkipped).toBe(4)
    expect((await t.where(t.c.id.ge(100)).orderBy('id').collect()).column('id')).toEqual([100, 103, 105, 106])
    const lines = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines.map((l) => [l.line, l.column ?? null])).toEqual([[3, 'id'], [4, null], [6, null], [8, null]])
    expect(lines[0].error).toContain('expected an integer')
    expect(lines[0].record).toEqual({ id: 'xx', name: 'b' })
    expect(lines[3].error).toContain('duplicate primary key (id)=(2)')
    expect(r.reportFile).toBe(report)
  })
})
