import { afterAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { uda, udf } from '../../src/compute/udf.ts'
import { functions } from '../../src/query/index.ts'
import { memoryDb } from '../support/db.ts'

// Functions are process-wide: a udf named 'upper' replaced upper() for every query of every database in the process
// (and a uda named 'sum' replaced sum()). A user definition may not take a built-in's name; redefining a UDF is fine.

let db: Tessera | undefined
afterAll(() => db?.close())

test("udf and uda refuse a built-in's name; the built-in keeps answering", async () => {
  const upper = functions.get('upper')
  expect(() => udf({ name: 'upper', returns: 'string', params: ['string'], fn: () => 'hijacked' })).toThrow("'upper' is the name of a built-in function; give yours another name")
  expect(() => uda({ name: 'sum', returns: 'int', params: ['int'], init: () => 0, step: (s: number) => s })).toThrow("'sum' is the name of a built-in function")
  // An operator is a built-in too.
  expect(() => udf({ name: 'eq', returns: 'bool', params: ['int', 'int'], fn: () => true })).toThrow('built-in')
  expect(functions.get('upper')).toBe(upper)
  db = await memoryDb()
  const t = await db.createTable('names', { s: 'string' })
  await t.insert([{ s: 'ab' }])
  expect((await t.select({ u: t.c.s.upper() }).collect()).rows).toEqual([{ u: 'AB' }])
})

test('a UDF may be defined again under its own name (a module reloaded)', () => {
  const first = udf({ name: 'udf_names_again', returns: 'int', params: ['int'], fn: (x: number) => x })
  const second = udf({ name: 'udf_names_again', returns: 'int', params: ['int'], fn: (x: number) => x + 1 })
  expect(functions.get('udf_names_again')).toBe(second.def)
  expect(first.def).not.toBe(second.def)
})
