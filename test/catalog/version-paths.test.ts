import { expect, test } from 'bun:test'
import { parsePath } from '../../src/catalog/index.ts'
import { TesseraError } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// A version is a Postgres integer. One past that range named no version, and errors echoed it rounded
// ('t:99999999999999999999' answered "no version 100000000000000000000").

test('a version past 2147483647 is a bad path naming the digits as given; the largest one parses', async () => {
  const err = (() => { try { parsePath('d/t:99999999999999999999', { allowVersion: true }) } catch (e) { return e } })() as TesseraError
  expect(err).toBeInstanceOf(TesseraError)
  expect(err.code).toBe('INVALID_NAME')
  expect(err.message).toBe("bad version ':99999999999999999999' in path 'd/t:99999999999999999999': versions are numbered from 0 to 2147483647")
  expect(parsePath('d/t:2147483647', { allowVersion: true })).toEqual({ path: 'd/t', parts: ['d', 't'], version: 2147483647 })

  const db = await memoryDb()
  try {
    await db.createTable('t', { id: 'int' })
    const r = await createApp(db).request('/api/v1/tables/t:99999999999999999999')
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain(':99999999999999999999')
  } finally {
    await db.close()
  }
})
