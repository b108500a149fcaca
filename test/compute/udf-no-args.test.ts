import { afterAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { invokeTools, retrievalFunction, tools } from '../../src/ai/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { memoryDb } from '../support/db.ts'

// A function without arguments learned the number of rows from its first argument's column, which it has not: a
// zero-argument UDF or retrieval function answered null for every row of a select, and as a tool answered nothing.

let db: Tessera | undefined
afterAll(() => db?.close())

test('a UDF and a retrieval function without arguments answer every row, in a select and as a tool', async () => {
  db = await memoryDb()
  const t = await db.createTable('no_args', { id: 'int', r: 'json?' })
  await t.insert([1, 2, 3].map((id) => ({ id, r: { choices: [{ message: { role: 'assistant', tool_calls: [{ id: 'c1', type: 'function', function: { name: 'no_args_answer', arguments: '{}' } }] } }] } })))
  let calls = 0
  const answer = udf({ name: 'no_args_answer', returns: 'int', params: [], fn: () => { calls++; return 42 } })
  const listing = retrievalFunction({ name: 'no_args_listing', description: 'every id', params: {}, query: () => t.orderBy(t.c.id).select({ id: t.c.id }) })
  const rows = (await t.orderBy(t.c.id).select({ id: t.c.id, a: answer(), l: listing() }).collect()).rows
  expect(rows).toEqual([1, 2, 3].map((id) => ({ id, a: 42, l: [{ id: 1 }, { id: 2 }, { id: 3 }] })))
  expect(calls).toBe(3)
  const invoked = (await t.orderBy(t.c.id).select({ out: invokeTools(tools([{ udf: answer, description: 'The answer', params: {} }]), t.c.r) }).collect()).rows
  expect(invoked.map((r) => r.out)).toEqual([1, 2, 3].map(() => [expect.objectContaining({ result: 42 })]))
})
