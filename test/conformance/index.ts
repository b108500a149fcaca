import { computedUdfSuite } from './computed-udf.ts'
import { dirsTablesSuite } from './dirs-tables.ts'
import { importsSuite } from './imports.ts'
import { jsonQuerySuite } from './json-query.ts'
import { lifecycleDefectsSuite } from './lifecycle-defects.ts'
import type { MakeDb } from './make-db.ts'
import { operatorsSuite } from './operators.ts'
import { queriesSuite } from './queries.ts'
import { rowsVersionsSuite } from './rows-versions.ts'
import { viewsSuite } from './views.ts'

// Every store runs the same suites: test/store/<store>.test.ts calls conformance(makeDb) once.
export type { MakeDb } from './make-db.ts'

export const SUITES: Record<string, (makeDb: MakeDb) => void> = {
  'dirs and tables': dirsTablesSuite,
  'rows and versions': rowsVersionsSuite,
  views: viewsSuite,
  queries: queriesSuite,
  operators: operatorsSuite,
  'json queries': jsonQuerySuite,
  'computed columns and udfs': computedUdfSuite,
  'issue 20 defects and options': lifecycleDefectsSuite,
  imports: importsSuite,
}

/** Stores to test, from STORES (e.g. STORES=pglite,postgres); all by default. */
export function storeEnabled(store: string): boolean {
  const list = process.env.STORES
  return !list || list.split(',').map((s) => s.trim()).includes(store)
}
