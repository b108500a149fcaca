import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// Error messages name the expression that failed, and printed every literal in it whole: a query comparing an int
// column with a 1 MB string was answered with a 2 MB error (the expression in the message and again in its details),
// a failing cast of a 1 MB cell with 3 MB (the value, then the expression twice), and a computed column's message is
// also stored in each failing cell. A message now shows a long literal or value by its start and its length; a
// column's definition (computedWith) is still shown whole.

let db: Tessera
let app: ReturnType<typeof createApp>
const big = 'y'.repeat(1_000_000)

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  const t = await db.createTable('lit', { id: 'int', s: 'string' })
  await t.insert([{ id: 1, s: big }])
})
afterAll(async () => { await db.close() })

const query = async (body: unknown) => {
  const res = await app.request('/api/v1/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, length: text.length, error: (JSON.parse(text) as { error: { code: string; message: string; details?: { expression?: string } } }).error }
}

test('a long literal in a refused expression is shown by its start and length', async () => {
  for (const where of [
    { fn: 'eq', args: [{ col: 'id' }, { lit: big }] },
    { fn: 'nosuch', args: [{ lit: big }] },
    { fn: 'concat', args: [{ col: 's' }, { lit: big }] },
  ]) {
    const r = await query({ table: 'lit', where })
    expect([r.status, r.error.code]).toEqual([400, 'INVALID_EXPRESSION'])
    expect(r.length).toBeLessThan(1_000)
    expect(r.error.message).toContain(`"${'y'.repeat(70)}`)
    expect(r.error.message).toContain('… (1,000,002 characters)')
  }
})

test('a failing cast of a long cell names it by its start and length', async () => {
  const r = await query({ table: 'lit', select: { n: { fn: 'astype', args: [{ col: 's' }], opts: { type: 'int' } } } })
  expect([r.status, r.error.code]).toEqual([400, 'INVALID_EXPRESSION'])
  expect(r.length).toBeLessThan(1_000)
  expect(r.error.message).toStartWith(`cannot cast "${'y'.repeat(70)}`)
  expect(r.error.message).toContain('… (1,000,002 characters) to int in astype(s, type="int")')
})

test("a computed column's definition is still shown whole", async () => {
  const t = await db.getTable('lit')
  const tail = 'z'.repeat(500)
  await t.addComputedColumn('longer', t.c.s.concat(tail))
  const res = await app.request('/api/v1/tables/lit')
  const info = (await res.json()) as { columns: { name: string; computedWith?: string }[] }
  expect(info.columns.find((c) => c.name === 'longer')?.computedWith).toBe(`concat(s, "${tail}")`)
})
