import { afterEach, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A createView whose first sync fails creates nothing: before, the view was recorded first and left behind, unable
// to open, with its path taken (creating it again said TABLE_ALREADY_EXISTS).

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string })

describe('a createView whose first sync fails', () => {
  test('an iterator over a file gone since it was inserted: the error, then no view, and the path is free', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const dir = mkdtempSync(join(tmpdir(), 'view-rollback-'))
    const file = join(dir, 'gone.txt')
    writeFileSync(file, 'One sentence. Another one.')
    const t = await db.createTable('a/docs', { id: 'int', doc: 'document' })
    await t.insert([{ id: 1, doc: file }])
    rmSync(dir, { recursive: true })
    const e = await fail(db.createView('a/chunks', t, { iterator: { name: 'document_splitter', input: 'doc' } }))
    expect(e).toBeDefined()
    expect((await fail(db.get('a/chunks')))?.code).toBe('TABLE_NOT_FOUND')
    expect(await db.listTables('a')).toEqual(['a/docs'])
  })

  test('a failing filter over hundreds of rows (a staged sync): no view, no leftover, the base unchanged', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int', s: 'string' })
    await t.insert(Array.from({ length: 700 }, (_, i) => ({ id: i, s: i === 650 ? 'abc' : String(i) })))
    const e = await fail(db.createView('a/v', t, { where: t.c.s.astype('int').ge(0) }))
    expect(e?.code).toBe('INVALID_EXPRESSION')
    expect((await fail(db.get('a/v')))?.code).toBe('TABLE_NOT_FOUND')
    const v = await db.createView('a/v', t, { where: t.c.id.lt(10) })
    expect(await v.count()).toBe(10)
    await t.insert([{ id: 1000, s: 'z' }])
    expect(await t.count()).toBe(701)
  })
})
