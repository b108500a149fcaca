import { describe } from 'bun:test'
import { storeEnabled, SUITES } from '../conformance/index.ts'
import { memoryDb } from '../support/db.ts'

// The conformance suites on the embedded store (STORES=pglite,postgres picks stores).
const run = storeEnabled('pglite') ? describe : describe.skip
for (const [name, suite] of Object.entries(SUITES)) run(`pglite: ${name}`, () => suite(memoryDb))
