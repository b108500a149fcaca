import { afterEach, describe, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { memoryDb, tempDir, templateBlob } from '../support/db.ts'

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

describe('an iterator over a column the view does not carry', () => {
  // A column computed when read (stored: false) has no value in the base rows a view's sync reads, and a hidden
  // column (an index's vectors) is not carried: createView crashed on either with a TypeError ("undefined is not an
  // object", looking for the carried input column) instead of saying why.
  test('a stored: false column is refused by name; a hidden one is not found; nothing is created', async () => {
    db = await Tessera.open({ home: tempDir(), restoreFrom: await templateBlob() })
    const t = await db.createTable('d', { id: 'int', s: 'string' })
    await t.insert([{ id: 1, s: 'One. Two.' }])
    await t.addComputedColumn('shout', t.c.s.upper(), { stored: false })
    const e = await fail(db.createView('v', t, { iterator: { name: 'string_splitter', input: 'shout' } }))
    expect(e?.code).toBe('INVALID_ARGUMENT')
    expect(e?.message).toStartWith("iterator input column 'shout' of 'd' is computed when read (stored: false), so a view cannot expand it")
    await t.addComputedColumn('quiet', t.c.s.lower(), { hidden: true })
    expect((await fail(db.createView('v', t, { iterator: { name: 'string_splitter', input: 'quiet' } })))?.code).toBe('COLUMN_NOT_FOUND')
    expect((await fail(db.get('v')))?.code).toBe('TABLE_NOT_FOUND')
    // A stored column of the same definition is expanded.
    await t.addComputedColumn('kept', t.c.s.upper())
    const v = await db.createView('v', t, { iterator: { name: 'string_splitter', input: 'kept', args: { separators: 'sentence' } } })
    expect((await v.select('text').orderBy('pos').collect()).rows).toEqual([{ text: 'ONE.' }, { text: 'TWO.' }])
  })
})
