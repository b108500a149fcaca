import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import { importData } from '../../src/index.ts'
import { memoryDb } from '../support/db.ts'

// A CSV import into a table whose columns are all plain values converts each record straight into the bulk load's
// cells (BulkLoad.prepareCells: no row object, a timestamp as epoch ms, no Date). A table with a media column takes
// the general path (row objects through BulkLoad.prepare). The same CSV through both must store the same values,
// fail on the same lines and columns, and skip the same rows.

let db: Tessera
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const SCHEMA = { id: 'int', n: 'int?', f: 'float?', b: 'bool?', s: 'string?', ts: 'timestamp?', j: 'json?', d: 'date?', extra: 'int?' }
const GENERAL = { ...SCHEMA, pic: 'image?' } // a media column (absent from the CSV) keeps rows on the general path
const HEADER = 'id,n,f,b,s,ts,j,d' // `extra` and `pic` are absent: null

const LINES = [
  '1,42,1.5,true,plain,2024-01-01T00:00:00Z,"{""k"":1}",2024-02-29',
  '2,-7,-0.25,false,"say ""hi"", then go",2024-01-01T00:00:00.123456+05:30,hello,1999-12-31',
  '3,,,,,,,',
  '4,0,0,t,"",2024-02-29T10:00:00Z,[1],', // a leap day (a day the month lacks is refused now: test/io/value-edges.test.ts)
  '5, 12 ,1e3,YES,"multi\nline",1969-12-31T23:59:59.999-00:00,"""q""",2000-01-01',
  '6,9007199254740991,-0,no,é 漢字 😀,2024-06-01 12:30Z,null,',
  '7,-9007199254740991,Infinity,FALSE,x,2024-06-01T12:30:45.1-0130,2,',
  '8,123,-1.5e-7,1,y,2024-06-01,{},',
  '9,5,2.5,0,z,0900-01-02T03:04:05Z,true,',
]

const csv = (lines: readonly string[]) => new TextEncoder().encode([HEADER, ...lines].join('\n') + '\n')

async function both(lines: readonly string[], options: { onBadRow?: 'abort' | 'skip' } = {}) {
  const out: Record<string, { rows?: Record<string, unknown>[]; error?: string; problems?: unknown[] }> = {}
  for (const [name, schema] of [['fast', SCHEMA], ['general', GENERAL]] as const) {
    const table = `${name}_${Math.random().toString(36).slice(2, 8)}`
    const t = await db.createTable(table, schema, { primaryKey: 'id' })
    // The test compares two paths only if they are two: the plain table's load takes cells, the other's does not.
    const load = await t.bulkLoad()
    expect(load.cellColumns === undefined).toBe(name === 'general')
    await load.discard()
    try {
      const r = await importData(db, table, csv(lines), { format: 'csv', ...options })
      const rows = (await t.orderBy('id').collect()).rows.map(({ pic, ...rest }) => (expect(pic ?? null).toBeNull(), rest))
      out[name] = { rows, problems: r.problems.map((p) => ({ ...p, file: undefined })) }
    } catch (e) {
      out[name] = { error: (e as Error).message.replace(/'(fast|general)_\w+'/g, 'T') }
    }
  }
  return out
}

describe('CSV import: the cells path stores what the general path stores', () => {
  test('every plain type, nulls, escaped quotes, timestamp forms', async () => {
    const r = await both(LINES)
    expect(r.general!.error).toBeUndefined()
    expect(r.fast).toEqual(r.general!)
    const rows = r.fast!.rows!
    expect(rows).toHaveLength(LINES.length)
    expect(rows[0]).toEqual({ id: 1, n: 42, f: 1.5, b: true, s: 'plain', ts: new Date('2024-01-01T00:00:00Z'), j: { k: 1 }, d: '2024-02-29', extra: null })
    expect(rows[1]!.s).toBe('say "hi", then go')
    expect(rows[1]!.ts).toEqual(new Date(Date.parse('2024-01-01T00:00:00.123+05:30')))
    expect(rows[2]).toEqual({ id: 3, n: null, f: null, b: null, s: null, ts: null, j: null, d: null, extra: null })
    expect(rows[3]!.s).toBe('')
    expect(rows[3]!.ts).toEqual(new Date('2024-02-29T10:00:00Z'))
    expect(rows[4]!.ts).toEqual(new Date('1969-12-31T23:59:59.999Z'))
    expect(rows[6]!.ts).toEqual(new Date(Date.parse('2024-06-01T12:30:45.100-01:30')))
    expect(rows[8]!.ts).toEqual(new Date('0900-01-02T03:04:05Z'))
  })

  test('a bad cell fails its line and column on both paths (abort), is skipped on both (skip)', async () => {
    const lines = [...LINES.slice(0, 3), '10,1,2,true,s,not a time,1,', '11,x,2,true,s,,1,', ...LINES.slice(3)]
    const abort = await both(lines)
    expect(abort.fast!.error).toContain('line 5')
    expect(abort.fast!.error).toContain("column 'ts'")
    expect(abort.fast).toEqual(abort.general!)
    const skip = await both(lines, { onBadRow: 'skip' })
    expect(skip.fast!.problems).toHaveLength(2)
    expect(skip.fast!.rows).toHaveLength(LINES.length)
    expect(skip.fast).toEqual(skip.general!)
  })

  test('a row the store refuses (a NUL in text) is named by its line on both paths, and skipped alone', async () => {
    const lines = [...LINES.slice(0, 4), '12,1,2,true,a\u0000b,,1,', ...LINES.slice(4)]
    const abort = await both(lines)
    expect(abort.fast!.error).toContain('line 6')
    expect(abort.fast).toEqual(abort.general!)
    const skip = await both(lines, { onBadRow: 'skip' })
    expect(skip.fast!.rows).toHaveLength(LINES.length)
    expect(skip.fast).toEqual(skip.general!)
  })

  test('a duplicate key is named as on the general path', async () => {
    const lines = [...LINES, '3,1,2,true,dup,,1,']
    const abort = await both(lines)
    expect(abort.fast!.error).toContain('duplicate primary key')
    expect(abort.fast).toEqual(abort.general!)
  })
})
