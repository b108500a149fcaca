import postgres from 'postgres'
import { Tessera } from '../../src/index.ts'

// Server-store test support: each test database is a fresh PostgreSQL database on the test server
// (TESSERA_TEST_DATABASE_URL, started by test/store/start-postgres.sh; .ci/run sets it), dropped at the end.

export const PG_URL = process.env.TESSERA_TEST_DATABASE_URL

/** Why server tests skip, printed once, so a green run without PostgreSQL says what it did not test. */
export function pgSkipReason(): string | undefined {
  if (PG_URL) return undefined
  return 'TESSERA_TEST_DATABASE_URL is unset: PostgreSQL store tests skipped (eval "$(test/store/start-postgres.sh)" to run them)'
}

const created: string[] = []

function urlFor(base: string, database: string): string {
  const u = new URL(base)
  u.pathname = `/${database}`
  return u.toString()
}

/** Creates an empty database on the test server and returns its URL. */
export async function freshDatabaseUrl(prefix = 'tessera_t'): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 7)}`
  const admin = postgres(PG_URL!, { max: 1, onnotice: () => undefined })
  try {
    await admin.unsafe(`create database "${name}"`)
  } finally {
    await admin.end({ timeout: 1 })
  }
  created.push(name)
  return urlFor(PG_URL!, name)
}

/** A fresh Tessera on a fresh server database. */
export async function serverDb(): Promise<Tessera> {
  return Tessera.open({ database: await freshDatabaseUrl() })
}

/** Drops every database this process created (afterAll of server test files). */
export async function dropCreatedDatabases(): Promise<void> {
  if (created.length === 0) return
  const admin = postgres(PG_URL!, { max: 1, onnotice: () => undefined })
  try {
    for (const name of created.splice(0)) await dropWhenFree(admin, name)
  } finally {
    await admin.end({ timeout: 1 })
  }
}

/**
 * Drops a database, waiting up to 10 s for connections of processes a test killed: the backend of a killed server's
 * connection lingers a moment, and FORCE may not end it (42501: it belongs to another role), which failed a file's
 * afterAll now and then.
 */
async function dropWhenFree(admin: postgres.Sql, name: string): Promise<void> {
  for (let waited = 0; ; waited += 200) {
    try {
      await admin.unsafe(`drop database if exists "${name}" with (force)`)
      return
    } catch (e) {
      const code = (e as { code?: string }).code
      if (waited >= 10_000 || (code !== '42501' && code !== '55006')) throw e
      await Bun.sleep(200)
    }
  }
}
