import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// Schema changes of one name started together (several clients, one server): each is checked again on the locked
// table, so the later ones answer as they would one after another — never a TypeError, nor a hidden column's name.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const codeOf = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code ?? String(r.reason))

describe('concurrent schema changes of one name', () => {
  test('dropping one column four times: one drop, then not found (or nothing, with ifNotExists ignore)', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_drop', { id: 'int', w: 'string?', x: 'string?' })
    const plain = await Promise.allSettled([1, 2, 3, 4].map(() => t.dropColumn('w')))
    expect(plain.map(codeOf).sort()).toEqual(['COLUMN_NOT_FOUND', 'COLUMN_NOT_FOUND', 'COLUMN_NOT_FOUND', 'ok'])
    const ignored = await Promise.allSettled([1, 2, 3].map(() => t.dropColumn('x', { ifNotExists: 'ignore' })))
    expect(ignored.map(codeOf)).toEqual(['ok', 'ok', 'ok'])
    expect(Object.keys(t.schema())).toEqual(['id'])
  })

  test('a drop racing a rename of the same column: one of them wins, the other names the column', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_rename', { id: 'int', w: 'string?' })
    // The rename takes the lock first; the drop, checked before it, finds the column gone on the locked table.
    const [rename, drop] = await Promise.allSettled([t.renameColumn('w', 'z'), t.dropColumn('w')])
    const codes = [codeOf(drop!), codeOf(rename!)].sort()
    expect(codes).toEqual(['COLUMN_NOT_FOUND', 'ok'])
  })

  test('four replaces of one computed column all succeed; one definition is left', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_replace', { id: 'int', v: 'string' })
    await t.insert([{ id: 1, v: 'a' }])
    const results = await Promise.allSettled([1, 2, 3, 4].map((n) => t.addComputedColumn('u', t.c.v.concat(String(n)), { ifExists: 'replace' })))
    expect(results.map(codeOf)).toEqual(['ok', 'ok', 'ok', 'ok'])
    expect(Object.keys(t.schema())).toEqual(['id', 'v', 'u'])
    const [row] = (await t.select('u').collect()).rows
    expect(['a1', 'a2', 'a3', 'a4']).toContain(row!.u as string)
  })

  test('the same embedding index added three times at once: one index, then the error a second add gives', async () => {
    db = await memoryDb()
    const t = await db.createTable('races_index', { id: 'int', v: 'string' })
    await t.insert([{ id: 1, v: 'hello' }])
    const results = await Promise.allSettled([1, 2, 3].map(() => t.addEmbeddingIndex('v', { name: 'lex', embed: embedders.lexical() })))
    expect(results.map(codeOf).sort()).toEqual(['INDEX_ALREADY_EXISTS', 'INDEX_ALREADY_EXISTS', 'ok'])
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason.message)).not.toContain('_idx_')
    const ignored = await Promise.allSettled([1, 2].map(() => t.addEmbeddingIndex('v', { name: 'lex2', embed: embedders.lexical(), ifExists: 'ignore' })))
    expect(ignored.map(codeOf)).toEqual(['ok', 'ok'])

    const drops = await Promise.allSettled([t.dropEmbeddingIndex('lex'), t.dropEmbeddingIndex('lex')])
    expect(drops.map(codeOf).sort()).toEqual(['INDEX_NOT_FOUND', 'ok'])
    for (const r of drops) if (r.status === 'rejected') expect(String(r.reason.message)).toContain("no index 'lex'")
  })
})
