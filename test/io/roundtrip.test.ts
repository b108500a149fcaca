import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Table, Tessera } from '../../src/index.ts'
import { exportQuery, exportStream, importData, importFile } from '../../src/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// Every column type through each format and back: table → file → new table, compared value by value.

let db: Tessera
let src: Table
const dir = tempDir('tessera-io-rt-')
const SCHEMA = {
  id: 'int', f: 'float?', b: 'bool?', s: 'string?', ts: 'timestamp?', d: 'date?', j: 'json?', u: 'uuid?',
  bin: 'binary?', arr: 'array<float32>[3]?', img: 'image?',
}
// Types a text file cannot reveal: bytes look like text, arrays like JSON, media refs like paths.
const OVERRIDES = { bin: 'binary?', arr: 'array<float32>[3]?', img: 'image?' }

beforeAll(async () => {
  db = await memoryDb()
  const png = (c: string) => sharp({ create: { width: 2, height: 2, channels: 3, background: c } }).png().toBuffer()
  writeFileSync(join(dir, 'red.png'), await png('red'))
  writeFileSync(join(dir, 'blue.png'), await png('blue'))
  src = await db.createTable('src', SCHEMA, { primaryKey: 'id' })
  await src.insert([
    { id: 1, f: 1.5, b: true, s: 'plain', ts: new Date('2024-01-02T03:04:05.678Z'), d: '2024-02-29', j: { a: [1, 2], b: 'x' }, u: '123e4567-e89b-12d3-a456-426614174000', bin: new Uint8Array([0, 1, 2, 255]), arr: [0.5, -1.25, 3], img: join(dir, 'red.png') },
    { id: 2, f: -0.25, b: false, s: 'comma, "quote"\nnewline', ts: new Date('1999-12-31T23:59:59Z'), d: '1970-01-01', j: [1, 'two', null], u: 'ffffffff-ffff-4fff-bfff-ffffffffffff', bin: new Uint8Array([]), arr: [1, 2, 3], img: join(dir, 'blue.png') },
    { id: 3, f: null, b: null, s: null, ts: null, d: null, j: null, u: null, bin: null, arr: null, img: null },
    { id: 4, f: 1e-7, b: true, s: ' spaced ', ts: new Date('2030-06-15T12:00:00Z'), d: '2030-06-15', j: { nested: { deep: true } }, u: '00000000-0000-4000-8000-000000000000', bin: new Uint8Array([42]), arr: [0, 0, 0], img: join(dir, 'red.png') },
  ])
})
afterAll(async () => {
  await db.close()
})

async function rows(t: string) {
  return (await (await db.getTable(t)).orderBy('id').collect()).rows
}

describe('round trips', () => {
  for (const format of ['jsonl', 'csv', 'parquet'] as const) {
    test(`${format}: table → file → table keeps every value and type`, async () => {
      const file = join(dir, `out.${format}`)
      const ex = await exportQuery(src, file)
      expect(ex.rows).toBe(4)
      expect(ex.bytes).toBeGreaterThan(0)
      const progress: number[] = []
      const r = await importFile(db, `rt_${format}`, file, {
        primaryKey: 'id', ...(format === 'parquet' ? {} : { schema: OVERRIDES }), onProgress: (p) => progress.push(p.rowsInserted),
      })
      expect(r.rowsInserted).toBe(4)
      expect(r.created).toBe(true)
      expect(progress.at(-1)).toBe(4)
      // CSV cannot tell an empty string from a missing value; every value here is distinct from ''.
      expect(r.schema).toEqual(SCHEMA)
      expect(await rows(`rt_${format}`)).toEqual(await rows('src'))
    })
  }

  test('a query (filtered, projected, computed) exports only its rows and columns', async () => {
    const file = join(dir, 'q.csv')
    await exportQuery(src.where(src.c.id.le(2)).select({ id: src.c.id, up: src.c.s.upper() }).orderBy('id'), file)
    expect(readFileSync(file, 'utf8')).toBe('id,up\n1,PLAIN\n2,"COMMA, ""QUOTE""\nNEWLINE"\n')
  })

  test('media copied into an export folder, cells point at the copies, re-import resolves them', async () => {
    const file = join(dir, 'media.jsonl')
    const ex = await exportQuery(src.select('id', 'img').orderBy('id'), file, { media: 'copy' })
    expect(ex.mediaCopied).toBe(2) // red.png is shared by two rows and copied once
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines[0].img).toBe('media_media/img/red.png')
    expect(existsSync(join(dir, 'media_media/img/blue.png'))).toBe(true)
    await importFile(db, 'rt_media', file, { schema: { img: 'image?' } })
    const back = await rows('rt_media')
    expect(back[0]!.img).toBe(join(dir, 'media_media/img/red.png'))
    expect(readFileSync(back[1]!.img as string)).toEqual(readFileSync(join(dir, 'blue.png')))
  })

  test('HTTP form: a streamed CSV body imports; exportStream streams Parquet that imports back', async () => {
    const body = new Blob(['id,name\n1,a\n2,b\n']).stream()
    const r = await importData(db, 'up_csv', body, { format: 'csv', name: 'upload.csv' })
    expect(r.rowsInserted).toBe(2)
    expect(r.schema).toEqual({ id: 'int', name: 'string' })
    const bytes = new Uint8Array(await new Response(exportStream(src, { format: 'parquet', batchSize: 3 })).arrayBuffer())
    expect(new TextDecoder().decode(bytes.subarray(0, 4))).toBe('PAR1')
    await importData(db, 'up_pq', new Blob([bytes]).stream(), { format: 'parquet', primaryKey: 'id' })
    expect(await rows('up_pq')).toEqual(await rows('src'))
    const jsonl = new Uint8Array(await new Response(exportStream(src.select('id', 'j'), { format: 'jsonl' })).arrayBuffer())
    await importData(db, 'up_jsonl', jsonl, { format: 'jsonl' })
    expect((await rows('up_jsonl')).map((x) => x.j)).toEqual((await rows('src')).map((x) => x.j))
  })

  test('JSON array files stream element by element, with line numbers', async () => {
    const file = join(dir, 'arr.json')
    writeFileSync(file, '[\n {"id": 1, "t": "a ] }"},\n {"id": 2, "t": "b", "x": [1, {"y": 2}]}\n]\n')
    const r = await importFile(db, 'arr_json', file)
    expect(r.schema).toEqual({ id: 'int', t: 'string', x: 'json?' })
    expect((await rows('arr_json')).map((x) => [x.t, x.x])).toEqual([['a ] }', null], ['b', [1, { y: 2 }]]])
  })

  test('into an existing table: the table types rule, missing nullable columns are null', async () => {
    const t = await db.createTable('existing', { id: 'int', name: 'string?', score: 'float?' })
    writeFileSync(join(dir, 'e.tsv'), 'score\tid\n1\t7\n2.5\t8\n')
    const r = await importFile(db, 'existing', join(dir, 'e.tsv'))
    expect(r.created).toBe(false)
    expect((await t.orderBy('id').collect()).rows).toEqual([{ id: 7, name: null, score: 1 }, { id: 8, name: null, score: 2.5 }])
  })
})
