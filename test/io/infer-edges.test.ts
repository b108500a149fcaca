import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { TypeSampler } from '../../src/io/import/infer.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// Types inferred for a new table must hold every sampled value exactly as the file has it: integers beyond ±2^53
// were inferred as float and rounded (9007199254740993 → …992), JSON values of mixed kinds were inferred as string
// and then the number refused, a JSON key __proto__ fell out of the schema, and a header the catalog cannot take
// as a column name failed without naming the file or a way out.

let db: Tessera
const dir = tempDir('tessera-io-infer-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const file = (name: string, text: string) => {
  const p = join(dir, name)
  writeFileSync(p, text)
  return p
}
const rowsOf = async (path: string) => (await (await db.getTable(path)).orderBy('id').collect()).toObjects()
type Failure = Error & { code?: string; details?: Record<string, unknown> }

describe('integers beyond ±2^53 are never rounded', () => {
  test('CSV: the column is inferred as string and keeps the exact digits', async () => {
    const r = await importFile(db, 'big_csv', file('big.csv', 'id,big,small\n1,9007199254740993,1\n2,12345678901234567890,2\n3,-9007199254740993,3\n'))
    expect(r.schema).toMatchObject({ id: 'int', big: 'string', small: 'int' })
    expect((await rowsOf('big_csv')).map((x) => x.big)).toEqual(['9007199254740993', '12345678901234567890', '-9007199254740993'])
  })

  test('JSON Lines and a JSON array: an integer literal JSON.parse would round is kept exact, as a string column', async () => {
    const text = '{"id":1,"big":9007199254740993,"f":1.5}\n{"id":2,"big":12345678901234567890,"f":12345678901234567.5}\n'
    const r = await importFile(db, 'big_jsonl', file('big.jsonl', text))
    expect(r.schema).toMatchObject({ id: 'int', big: 'string', f: 'float' })
    expect((await rowsOf('big_jsonl')).map((x) => x.big)).toEqual(['9007199254740993', '12345678901234567890'])
    await importFile(db, 'big_json', file('big.json', `[${text.trim().split('\n').join(',')}]`))
    expect((await rowsOf('big_json')).map((x) => x.big)).toEqual(['9007199254740993', '12345678901234567890'])
  })

  test('into an existing int column (also past the sampled rows): refused by line and column, suggesting a string column', async () => {
    await db.createTable('big_int', { id: 'int', big: 'int' })
    for (const [name, text, line] of [['late.csv', 'id,big\n1,5\n2,9007199254740993\n', 3], ['late.jsonl', '{"id":1,"big":5}\n{"id":2,"big":9007199254740993}\n', 2]] as const) {
      const e = (await rejection(importFile(db, 'big_int', file(name, text)))) as Failure
      expect(e.code).toBe('INVALID_ROW')
      expect(e.message).toContain(`line ${line}, column 'big': integer 9007199254740993 is beyond ±2^53`)
      expect(e.message).toContain('--type big:string')
    }
    // A new table whose sample saw only small values: the late big value is refused, not rounded.
    const e = (await rejection(importFile(db, 'big_late_new', file('late2.csv', 'id,big\n1,5\n2,9007199254740993\n'), { sampleSize: 1 }))) as Failure
    expect(e.message).toContain("line 3, column 'big': integer 9007199254740993 is beyond ±2^53")
  })

  test('into a json column, a big literal nested in a value is refused, not rounded', async () => {
    await db.createTable('big_json_col', { id: 'int', j: 'json' })
    const e = (await rejection(importFile(db, 'big_json_col', file('nested.jsonl', '{"id":1,"j":{"n":[9007199254740993]}}\n')))) as Failure
    expect(e.message).toContain("line 1, column 'j': integer 9007199254740993 is beyond ±2^53")
  })
})

describe('JSON values of mixed kinds widen to json', () => {
  test('a number then a string, a boolean then a number: the column is json and every value imports as it was', async () => {
    const a = await importFile(db, 'mixed', file('mixed.jsonl', '{"id":1,"v":1}\n{"id":2,"v":"two"}\n'))
    expect(a.schema.v).toBe('json')
    expect((await rowsOf('mixed')).map((x) => x.v)).toEqual([1, 'two'])
    const b = await importFile(db, 'mixed2', file('mixed2.jsonl', '{"id":1,"v":true}\n{"id":2,"v":0}\n{"id":3,"v":null}\n'))
    expect(b.schema.v).toBe('json?')
    expect((await rowsOf('mixed2')).map((x) => x.v)).toEqual([true, 0, null])
  })

  test('strings of different shapes stay a string column, and CSV cells of mixed kinds stay string', () => {
    const json = new TypeSampler(false)
    json.add({ s: '2024-01-01' })
    json.add({ s: 'hello' })
    expect(json.schema(['s'], new Map([['s', 2]]), 2)).toEqual({ s: 'string' })
    const csv = new TypeSampler(true)
    csv.add({ v: '1' })
    csv.add({ v: 'true' })
    expect(csv.schema(['v'], new Map([['v', 2]]), 2)).toEqual({ v: 'string' })
  })
})

describe('column names from the input', () => {
  test('a JSON key __proto__ stays in the inferred schema (and is then refused by name, not as an unknown column)', async () => {
    const sampler = new TypeSampler(false)
    sampler.add(JSON.parse('{"id":1,"__proto__":5}'))
    const schema = sampler.schema(['id', '__proto__'], new Map([['id', 1], ['__proto__', 1]]), 1)
    expect(Object.keys(schema)).toEqual(['id', '__proto__'])
    expect(schema.__proto__).toBe('int')
    const e = (await rejection(importFile(db, 'proto', file('proto.jsonl', '{"id":1,"__proto__":5}\n')))) as Failure
    expect(e.code).toBe('INVALID_NAME')
    expect(e.message).toContain('proto.jsonl: the input has column "__proto__"')
    expect(e.details).toMatchObject({ column: '__proto__' })
  })

  test('a header the catalog refuses ("First Name") names the file and the header, and says what to change', async () => {
    const p = file('names.csv', 'id,First Name\n1,Ada\n')
    const e = (await rejection(importFile(db, 'names', p))) as Failure
    expect(e.code).toBe('INVALID_NAME')
    expect(e.message).toContain(`${p}: the header has column "First Name", which cannot be a column name`)
    expect(e.message).toContain('rename it in the header (e.g. "First_Name")')
    expect(e.details).toMatchObject({ file: p, column: 'First Name' })
    expect((await db.listTables()).includes('names')).toBe(false)
  })
})
