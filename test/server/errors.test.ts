import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import { toError } from '../../src/client/http.ts'
import {
  AlreadyExistsError, ConcurrencyError, ConflictError, ERROR_CODES, errorOf, invalid, NotFoundError, RequestError, TesseraError,
} from '../../src/errors.ts'
import type { ErrorCode } from '../../src/errors.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { STATUS } from '../../src/server/errors.ts'
import { migrate, SCHEMA_VERSION } from '../../src/store/index.ts'
import type { Queryable } from '../../src/store/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// One code table (src/errors.ts): the class an error is thrown as, its HTTP status and the class the HTTP client
// rebuilds all follow the code.

const codes = Object.keys(ERROR_CODES) as ErrorCode[]

describe('the code table', () => {
  test('every code builds the class of its family, and the server answers its status', () => {
    const classOf = { not_found: NotFoundError, already_exists: AlreadyExistsError, invalid: RequestError, conflict: ConflictError, concurrency: ConcurrencyError }
    for (const code of codes) {
      const e = errorOf(code, 'm')
      expect(e.code).toBe(code)
      expect(STATUS[code]).toBe(ERROR_CODES[code].status)
      expect(e.status).toBe(ERROR_CODES[code].status)
      const cls = classOf[ERROR_CODES[code].family as keyof typeof classOf]
      if (cls) expect(e).toBeInstanceOf(cls)
    }
  })

  test('invalid() with a 409 or 404 code is caught by the class its code names', () => {
    expect(invalid('READ_ONLY', 'x')).toBeInstanceOf(ConflictError)
    expect(invalid('CONSTRAINT_VIOLATION', 'x')).toBeInstanceOf(ConflictError)
    expect(invalid('HAS_DEPENDENTS', 'x')).toBeInstanceOf(ConflictError)
    expect(invalid('COLUMN_NOT_FOUND', 'x')).toBeInstanceOf(NotFoundError)
    expect(invalid('CONCURRENCY_CONFLICT', 'x')).toBeInstanceOf(ConcurrencyError)
    expect(invalid('CONCURRENCY_CONFLICT', 'x').retryable).toBe(true)
    expect(invalid('INVALID_ROW', 'x').retryable).toBe(false)
  })

  test('the client rebuilds an error from its code, not from the HTTP status', () => {
    for (const code of codes) {
      const e = toError(ERROR_CODES[code].status, { error: { code, message: 'm', details: { row: 1 } } })
      expect(e.constructor).toBe(errorOf(code, 'm').constructor)
      expect(e.code).toBe(code)
      expect(e.details).toEqual({ row: 1 })
    }
    // A status that disagrees with the code does not change the class.
    expect(toError(400, { error: { code: 'CONCURRENCY_CONFLICT', message: 'm' } })).toBeInstanceOf(ConcurrencyError)
    // A code this client does not know keeps its name in the message.
    const unknown = toError(418, { error: { code: 'FUTURE_CODE', message: 'teapot' } })
    expect(unknown).toBeInstanceOf(TesseraError)
    expect(unknown.message).toBe('FUTURE_CODE: teapot')
  })
})

describe('over HTTP and in-process alike', () => {
  let db: Tessera
  let app: ReturnType<typeof createApp>
  beforeAll(async () => {
    db = await memoryDb()
    app = createApp(db)
  })
  afterAll(async () => { await db.close() })

  test('a write to a snapshot is a ConflictError (READ_ONLY, 409) both ways', async () => {
    const t = await db.createTable('e1', { id: 'int' })
    const snap = await db.createSnapshot('e1_snap', t)
    const local = await rejection(snap.insert([{ id: 1 }]))
    const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
    const remote = await rejection((await client.getTable('e1_snap')).insert([{ id: 1 }]))
    for (const e of [local, remote]) {
      expect(e).toBeInstanceOf(ConflictError)
      expect((e as TesseraError).code).toBe('READ_ONLY')
    }
    const res = await app.fetch(new Request('http://127.0.0.1/api/v1/tables/e1_snap/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"rows":[{"id":1}]}' }))
    expect(res.status).toBe(409)
  })

  test('a revert that lost a race is a ConcurrencyError, as the client rebuilds it', async () => {
    const t = await db.createTable('e2', { id: 'int' })
    await t.insert([{ id: 1 }])
    const local = await rejection(t.revert({ expectVersion: 0 })) as TesseraError
    expect(local).toBeInstanceOf(ConcurrencyError)
    expect(toError(local.status, { error: local.toJSON() })).toBeInstanceOf(ConcurrencyError)
  })
})

describe('migrations', () => {
  const fake = (version: number, failOn?: string): Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> } => {
    const q = {
      async exec(sql: string) {
        if (failOn && sql.includes(failOn)) throw new Error('boom')
        return []
      },
      async query(sql: string) {
        return { rows: sql.includes('schema_version') && sql.startsWith('select') ? [{ value: version }] : [], fields: [] }
      },
      async transaction<T>(fn: (tx: Queryable) => Promise<T>) { return fn(q as unknown as Queryable) },
    }
    return q as never
  }

  test('a catalog newer than this build is a typed MIGRATION_FAILED error', async () => {
    const e = await rejection(migrate(fake(SCHEMA_VERSION + 1)))
    expect(e).toBeInstanceOf(TesseraError)
    expect(e).toMatchObject({ code: 'MIGRATION_FAILED', details: { applied: SCHEMA_VERSION + 1, supported: SCHEMA_VERSION } })
  })

  test('a failing migration statement names the step and keeps the cause', async () => {
    const e = await rejection(migrate(fake(SCHEMA_VERSION - 1, 'jobs_key'))) as TesseraError
    expect(e.code).toBe('MIGRATION_FAILED')
    expect(e.details).toEqual({ from: SCHEMA_VERSION - 1, to: SCHEMA_VERSION })
    expect((e.cause as Error).message).toBe('boom')
  })
})
