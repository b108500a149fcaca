import type { Fixture } from '../query/fixture.ts'
import { ROWS, SCHEMA } from '../query/fixture.ts'
import type { MakeDb } from './make-db.ts'

// The query fixture (test/query/fixture.ts) on any store.
export { forceTs, ROWS, SCHEMA, tsOnly, values } from '../query/fixture.ts'
export type { Fixture } from '../query/fixture.ts'

export async function fixture(makeDb: MakeDb): Promise<Fixture> {
  const db = await makeDb()
  await db.createDir('q')
  const t = await db.createTable('q/t', { ...SCHEMA }, { primaryKey: 'id' })
  await t.insert(ROWS)
  return { db, t }
}
