import { afterAll, describe } from 'bun:test'
import { storeEnabled, SUITES } from '../conformance/index.ts'
import { dropCreatedDatabases, pgSkipReason, serverDb } from './pg-support.ts'

// The conformance suites on a PostgreSQL server (STORES=pglite,postgres picks stores): each suite gets a fresh
// database. Skips, saying why, when TESSERA_TEST_DATABASE_URL is unset.
const skip = pgSkipReason()
if (skip && storeEnabled('postgres')) console.warn(skip)
const run = storeEnabled('postgres') && !skip ? describe : describe.skip
afterAll(() => dropCreatedDatabases(), 30_000)
for (const [name, suite] of Object.entries(SUITES)) run(`postgres: ${name}`, () => suite(serverDb))
