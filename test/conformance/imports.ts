// Imports on every store (test/store/<store>.test.ts): staged through a staging table (COPY on PGlite, a
// parameterized insert on a server), committed as ONE table version, with per-row errors naming their input line.
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Tessera, TesseraError } from '../../src/index.ts'
import { embedders, importFile } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'

export function importsSuite(makeDb: MakeDb): void {
  let db: Tessera
  const dir = mkdtempSync(join(tmpdir(), 'tessera-conf-import-'))
  const csv = (name: string, lines: string[]) => {
    const p = join(dir, name)
    writeFileSync(p, `id,name\n${lines.join('\n')}\n`)
    return p
  }
  const people = (from: number, n: number) => Array.from({ length: n }, (_, k) => `${from + k},name ${from + k}`)
  const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure') }, (e) => e as TesseraError)
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => {
    await db.close()
    rmSync(dir, { recursive: true, force: true })
  })

  test('a CSV import is one version; a bad middle line aborts with nothing written, or is skipped and reported', async () => {
    const t = await db.createTable('imp', { id: 'int', name: 'string' }, { primaryKey: 'id' })
    const lines = people(0, 900)
    lines[610] = 'x,bad' // line 612
    const p = csv('bad.csv', lines)
    const e = await failure(importFile(db, 'imp', p, { batchSize: 200 }))
    expect(e.message).toContain(`${p}, line 612, column 'id': expected an integer`)
    expect([t.version, await t.count()]).toEqual([0, 0])
    const r = await importFile(db, 'imp', p, { batchSize: 200, onBadRow: 'skip' })
    expect([r.rowsInserted, r.rowsSkipped, r.versions]).toEqual([899, 1, [1]])
    expect(r.problems[0]).toMatchObject({ line: 612, column: 'id' })
    expect((await t.history()).map((h) => [h.kind, h.inserted])).toEqual([['insert', 899], ['create', 0]])
  })

  test('a duplicate key with an existing row is named by line; skip leaves it out', async () => {
    const p = csv('dup.csv', [...people(10_000, 3), '5,dup', ...people(10_003, 3)])
    const e = await failure(importFile(db, 'imp', p))
    expect(e.code).toBe('CONSTRAINT_VIOLATION')
    expect(e.message).toContain(`${p}, line 5: duplicate primary key (id)=(5)`)
    const t = await db.getTable('imp')
    expect(t.version).toBe(1)
    const r = await importFile(db, 'imp', p, { onBadRow: 'skip' })
    expect([r.rowsInserted, r.problems.map((x) => x.line), r.versions]).toEqual([6, [5], [2]])
  })

  test('computed columns (and an embedding index where the store has pgvector) are filled for imported rows', async () => {
    const t = await db.createTable('imp_c', { id: 'int', name: 'string' })
    await t.addComputedColumn('upper', t.c.name.upper())
    const vector = db.driver.capabilities.vector
    if (vector) await t.addEmbeddingIndex('name', { embed: embedders.lexical(), metric: 'cosine' })
    await importFile(db, 'imp_c', csv('c.csv', people(0, 500)), { batchSize: 100 })
    expect(await t.where(t.c.upper.isNull()).count()).toBe(0)
    expect((await t.where(t.c.id.eq(42)).select('upper').collect()).rows).toEqual([{ upper: 'NAME 42' }])
    if (vector) {
      const sim = t.c.name.similarity({ text: 'name 42' })
      expect((await t.orderBy(sim, 'desc').limit(1).select('id').collect()).rows).toEqual([{ id: 42 }])
    }
  })
}
