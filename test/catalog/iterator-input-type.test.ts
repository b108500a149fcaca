import { afterEach, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// An iterator reads its input column as the type it declares (src/iterators/: input): createView refuses a column of
// another type, naming iterator, column and both types. Before, a string_splitter over a document column split the
// file's path text, a document_splitter over a string column opened the strings as server file paths, and a
// string_splitter over an int column failed at the first sync.

let db: Tessera | undefined
afterEach(async () => {
  await db?.close()
  db = undefined
})

const fail = <T>(p: Promise<T>) => p.then(() => undefined, (e: unknown) => e as { code?: string; message: string; details?: Record<string, unknown> })

describe('an iterator over a column of the wrong type', () => {
  test('is refused at createView with INVALID_TYPE naming iterator, column and types; nothing is created', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/d', { id: 'int', doc: 'document?', s: 'string', n: 'int' })
    await t.insert([{ id: 1, s: 'One. Two.', n: 5 }])
    for (const [name, input, expected, actual] of [
      ['string_splitter', 'doc', 'string', 'document?'],
      ['document_splitter', 's', 'document', 'string'],
      ['string_splitter', 'n', 'string', 'int'],
    ] as const) {
      const e = await fail(db.createView('a/v', t, { iterator: { name, input } }))
      expect(e?.code).toBe('INVALID_TYPE')
      expect(e?.message).toBe(`iterator '${name}' takes a ${expected} input, but column '${input}' of 'a/d' is ${actual}; pick a column of type ${expected}`)
      expect((await fail(db.get('a/v')))?.code).toBe('TABLE_NOT_FOUND')
    }
  })

  test('a column of the declared type (nullable too) is taken', async () => {
    db = await memoryDb()
    await db.createDir('a')
    const t = await db.createTable('a/d', { id: 'int', s: 'string?' })
    await t.insert([{ id: 1, s: 'One sentence. Another one.' }])
    const v = await db.createView('a/v', t, { iterator: { name: 'string_splitter', input: 's', args: { separators: 'sentence' } } })
    expect(await v.count()).toBe(2)
  })
})
