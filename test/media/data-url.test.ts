import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/errors.ts'
import { readMedia, uploadedBytes } from '../../src/media/index.ts'
import { memoryDb } from '../support/db.ts'

// data: URLs (RFC 2397) in media columns. A bad percent escape ('data:text/plain,100%') escaped as a raw URIError
// with no code, row or column; a media type with parameters ('text/plain;charset=utf-8') was refused as "not a path".

let db: Tessera
beforeAll(async () => { db = await memoryDb() }, 60_000)
afterAll(async () => { await db.close() })

async function insertError(value: string): Promise<TesseraError> {
  const t = await db.getTable('a/d')
  const e = await t.insert([{ id: 1, doc: 'data:,ok' }, { id: 2, doc: value }]).then(() => undefined, (x: unknown) => x)
  expect(e).toBeInstanceOf(TesseraError)
  return e as TesseraError
}

test('a bad percent escape is INVALID_MEDIA naming row and column', async () => {
  await db.createDir('a')
  await db.createTable('a/d', { id: 'int', doc: 'document?' })
  for (const [value, at] of [['data:text/plain,100%', 3], ['data:text/plain,%E0%A4%A', 6]] as const) {
    const e = await insertError(value)
    expect(e.code).toBe('INVALID_MEDIA')
    expect(e.details).toMatchObject({ row: 1, column: 'doc' })
    expect(e.message).toBe(`row 1, column 'doc': the data: URL's text has a bad percent escape at character ${at} of its data: write '%' as %25`)
  }
  // A well-formed escape that is not UTF-8.
  const e = await insertError('data:text/plain,%FF')
  expect(e.code).toBe('INVALID_MEDIA')
  expect(e.message).toContain('not UTF-8')
  // Outside a column (model inputs) the error is INVALID_MEDIA too, not a URIError.
  expect(() => uploadedBytes('data:text/plain,100%')).toThrow(TesseraError)
  expect(() => uploadedBytes('data:text/plain')).toThrow("is not a data: URL")
  expect(await (await db.getTable('a/d')).count()).toBe(0)
})

test('media types with parameters are taken, with or without base64', async () => {
  const t = await db.getTable('a/d')
  await t.insert([
    { id: 10, doc: 'data:text/plain;charset=utf-8;base64,aGVsbG8=' },
    { id: 11, doc: 'data:text/plain;charset=utf-8,hello%20there' },
    { id: 12, doc: 'data:text/plain;charset=US-ASCII;name=x.txt,plain' },
    { id: 13, doc: 'DATA:TEXT/PLAIN;BASE64,aGk=' },
    { id: 14, doc: 'data:text/plain,100%25' },
  ])
  const refs = (await t.where(t.c.id.ge(10)).orderBy(t.c.id).collect()).toObjects().map((r) => r.doc as string)
  const texts = await Promise.all(refs.map(async (r) => new TextDecoder().decode(await readMedia(r, db.media))))
  expect(texts).toEqual(['hello', 'hello there', 'plain', 'hi', '100%'])
  for (const r of refs) expect(r).toMatch(/^media:\/\/[0-9a-f]{64}\.txt$/)
})
