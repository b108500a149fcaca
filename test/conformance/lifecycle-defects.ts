// Regression tests for the defects and silently ignored options of issue 20, run on every store.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'

export function lifecycleDefectsSuite(makeDb: MakeDb): void {
  let db: Tessera
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => { await db.close() })
  const err = (p: Promise<unknown>) => p.then(() => undefined, (e) => e)

  describe('primary keys are immutable', () => {
    test('updating a key column is refused, naming the column; nothing changes', async () => {
      const t = await db.createTable('pk_imm', { id: 'int', name: 'string' }, { primaryKey: 'id' })
      await t.insert([{ id: 1, name: 'a' }, { id: 2, name: 'b' }])
      const e = await err(t.update({ id: 3 }, { where: t.c.id.eq(1) }))
      expect(e.code).toBe('INVALID_ARGUMENT')
      expect(e.message).toContain("'id' is part of the primary key of 'pk_imm'")
      expect(e.details).toEqual({ column: 'id' })
      expect(await err(t.update({ id: t.c.id.add(10) }))).toMatchObject({ code: 'INVALID_ARGUMENT' })
      expect(t.version).toBe(1)
      await t.update({ name: 'z' }, { where: t.c.id.eq(1) })
      await t.batchUpdate([{ id: 2, name: 'y' }])
      expect((await t.orderBy(t.c.id).select('id', 'name').collect()).rows).toEqual([{ id: 1, name: 'z' }, { id: 2, name: 'y' }])
    })
  })
}
