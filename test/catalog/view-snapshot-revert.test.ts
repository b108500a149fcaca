import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A snapshot of a view carries the view's metadata (its base included) but depends on the view, not on the view's
// base. It was listed among the base's dependents, so a revert of the base was refused with "view 'a/snv' changed
// ...; revert the view first", naming a snapshot, which cannot be reverted.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string })

describe("a snapshot of a view, and a revert of the view's base", () => {
  test('the view follows by a new version: the revert goes through, the snapshot keeps its rows', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int' })
    await t.insert([{ id: 1 }])
    await t.insert([{ id: 2 }])
    const vv = await db.createView('a/vv', t, {})
    const snv = await db.createSnapshot('a/snv', 'a/vv')
    const e = await fail(t.revert())
    expect(e?.message ?? 'reverted').toBe('reverted')
    expect(await t.count()).toBe(1)
    expect(await vv.count()).toBe(1)
    expect(await snv.count()).toBe(2)
  })

  test('the view would pop the version the snapshot pins: refused naming the snapshot and the view, not as a view to revert', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/t', { id: 'int' })
    await t.insert([{ id: 1 }])
    const vv = await db.createView('a/vv', t, {})
    await t.insert([{ id: 2 }])
    const snv = await db.createSnapshot('a/snv', 'a/vv')
    const e = await fail(t.revert())
    expect(e?.code).toBe('HAS_DEPENDENTS')
    expect(e?.message).toBe(`version ${vv.version} of 'a/vv' is pinned by snapshot 'a/snv' (through 'a/vv', which follows the revert of 'a/t'); drop the snapshot before reverting past it`)
    expect(await t.count()).toBe(2)
    expect(await snv.count()).toBe(2)
  })
})
