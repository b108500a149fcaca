import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// '__proto__', 'constructor' and 'prototype' as column and output names in the library: refused by the
// catalog's name check (src/types/paths.ts checkName) and select(), where a '__proto__' column used to store
// "[object Object]" and an output named so came back missing from every row.

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const failure = async (p: unknown) => (await rejection(p)) as Error & { code?: string }

test('reserved names are refused as columns and outputs, with INVALID_NAME (tables and dirs so named stay reachable)', async () => {
  for (const name of ['__proto__', 'constructor', 'prototype']) {
    let e = await failure(db.createTable(`t_${name.replaceAll('_', '')}`, { id: 'int', [name]: 'string?' }))
    expect([e.code, e.message]).toEqual(['INVALID_NAME', expect.stringContaining(`invalid column name "${name}": a reserved name`)])
  }
  const t = await db.createTable('ok', { id: 'int', s: 'string?' })
  for (const name of ['__proto__', 'constructor', 'prototype']) {
    expect((await failure(t.addColumn(name, 'string?'))).code).toBe('INVALID_NAME')
    expect((await failure(t.addComputedColumn(name, t.c.s.upper()))).code).toBe('INVALID_NAME')
    expect((await failure(t.renameColumn('s', name))).code).toBe('INVALID_NAME')
    expect(() => t.select({ [name]: t.c.id })).toThrow('invalid output name')
  }
  expect(Object.keys(t.schema())).toEqual(['id', 's'])
  // Names of prototype methods are ordinary names.
  await t.addColumn('toString', 'int?')
  await t.insert([{ id: 1, s: 'x', toString: 2 }])
  expect((await t.select({ hasOwnProperty: t.c.toString }).collect()).toObjects()).toEqual([{ hasOwnProperty: 2 }])
})
