import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Table, Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/index.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// undefined where an expression is required (`t.c.j['k']` on an Expr, a misspelt member) used to become a null
// literal: addComputedColumn made an always-null column and a where matched nothing, without a word. It is refused,
// with the column named where there is one.

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('u', { id: 'int', j: 'json?' })
  await t.insert([{ id: 1, j: { k: 5 } }])
})
afterAll(async () => { await db?.close() })

test('addComputedColumn with an undefined expression is refused and adds nothing', async () => {
  const e = (await rejection(t.addComputedColumn('e', (t.c.j as any)['k']))) as TesseraError
  expect(e).toBeInstanceOf(TesseraError)
  expect(e.code).toBe('INVALID_EXPRESSION')
  expect(e.message).toContain('undefined')
  expect(t.schema().e).toBeUndefined()
  // What was meant: the JSON field, by .get().
  await t.addComputedColumn('n', t.c.j.get('k'))
  expect((await t.select('n').collect()).rows).toEqual([{ n: 5 }])
})

test('undefined inside an expression, in where and in select is refused too', () => {
  const code = (f: () => unknown) => { try { f(); return 'accepted' } catch (e) { return (e as TesseraError).code } }
  expect(code(() => t.c.id.add(undefined as never))).toBe('INVALID_EXPRESSION')
  expect(code(() => t.where(undefined as never))).toBe('INVALID_EXPRESSION')
  expect(code(() => t.select({ x: undefined as never }))).toBe('INVALID_EXPRESSION')
  expect(code(() => t.c.id.eq(null))).toBe('accepted')
})

test('a setup file that declares a computed column from undefined fails and names the column, even when it exists', async () => {
  const target = db as unknown as SetupTarget
  for (const ifExists of ['ignore', 'replace'] as const) {
    const setup = defineSetup(async (s) => {
      const u = await s.createTable('u', { id: 'int', j: 'json?' })
      await u.addComputedColumn(ifExists === 'ignore' ? 'n' : 'e2', (u.c.j as any)['k'], { ifExists })
    })
    const e = (await rejection(applySetup(setup, target))) as TesseraError
    expect(e.code).toBe('INVALID_EXPRESSION')
    expect(e.message).toContain(ifExists === 'ignore' ? "addComputedColumn('n') on u" : "addComputedColumn('e2') on u")
  }
  expect(t.schema().e2).toBeUndefined()
})
