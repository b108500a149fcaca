import { afterAll, beforeAll, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// createTable and createView with ifExists: 'replace' drop and recreate a table or view whose definition differs, which the catalog
// refuses while a view or snapshot is over it. The plan did not know: it passed ("would replace table app/docs"), and
// the apply then failed at the replace after the setup's earlier changes were made (a dir, a table). The plan now
// refuses it naming the dependents, so the apply changes nothing.

let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: join(tempDir('tessera-setup-replace-deps-'), 'data'), restoreFrom: await templateBlob() })
})
afterAll(async () => {
  await db.close()
})

test("a replace of a table with a view or snapshot over it fails the plan, naming them, and the apply changes nothing", async () => {
  const target = db as unknown as SetupTarget
  await applySetup(defineSetup(async (s) => {
    await s.createDir('app')
    const docs = await s.createTable('app/docs', { id: 'int', text: 'string' })
    await s.createView('app/short', docs, { where: docs.c.id.lt(10) })
  }), target)
  await db.createSnapshot('app/snap', 'app/docs')
  const changed = defineSetup(async (s) => {
    await s.createDir('other')
    await s.createTable('other/t', { id: 'int' })
    const docs = await s.createTable('app/docs', { id: 'int', text: 'string', n: 'int?' }, { ifExists: 'replace' })
    await s.createView('app/short', docs, { where: docs.c.id.lt(10) })
  })
  for (const plan of [true, false]) {
    const e = (await rejection(applySetup(changed, target, { plan }))) as Error & { code?: string; details?: Record<string, unknown> }
    expect(e.code).toBe('HAS_DEPENDENTS')
    expect(e.message).toStartWith("table app/docs: ifExists 'replace' would drop and recreate it, but 'app/short', 'app/snap' are views or snapshots over it")
    expect(e.details?.dependents).toEqual(['app/short', 'app/snap'])
  }
  expect(await db.listDirs()).toEqual(['app'])
  expect(Object.keys((await db.getTable('app/docs')).schema())).toEqual(['id', 'text'])

  // Once they are dropped, the setup replaces the table and makes its view again.
  await db.dropTable('app/snap')
  await db.dropTable('app/short')
  expect((await applySetup(changed, target)).changed).toBe(true)
  expect(Object.keys((await db.getTable('app/docs')).schema())).toEqual(['id', 'text', 'n'])
  expect(await db.listTables('app')).toEqual(['app/docs', 'app/short'])
})

test('a replace of a view with a view over it alike', async () => {
  const target = db as unknown as SetupTarget
  const views = (limit: number, replace = false) => defineSetup(async (s) => {
    await s.createDir('vw')
    const docs = await s.createTable('vw/docs', { id: 'int' })
    const short = await s.createView('vw/short', docs, { where: docs.c.id.lt(limit), ...(replace ? { ifExists: 'replace' as const } : {}) })
    await s.createView('vw/shorter', short, { where: short.c.id.lt(5) })
  })
  await applySetup(views(10), target)
  const e = (await rejection(applySetup(views(20, true), target, { plan: true }))) as Error & { code?: string }
  expect(e.code).toBe('HAS_DEPENDENTS')
  expect(e.message).toStartWith("view vw/short: ifExists 'replace' would drop and recreate it, but 'vw/shorter' is a view or snapshot over it; drop it first")
})
