import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { importFile } from '../../src/index.ts'
import { reportLine, showValue } from '../../src/io/import/show.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A bad row's value is shown in the error (40 characters) and written to the skip report: both must work for any
// value a reader hands over. A JSON cell nested 100,000 levels deep parses, but JSON.stringify of it overflows the
// stack: the import failed as INTERNAL 'Maximum call stack size exceeded' with no line instead of naming the row.

let db: Tessera
const dir = tempDir('tessera-io-preview-')
beforeAll(async () => {
  db = await memoryDb()
})
afterAll(async () => {
  await db.close()
})

const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

describe('showValue is bounded for any value', () => {
  test('deep, wide, long, circular and BigInt values are shortened without throwing', () => {
    expect(showValue(JSON.parse(deep(100_000)))).toBe('['.repeat(40) + '…')
    expect(showValue(Array.from({ length: 1_000_000 }, (_, i) => i))).toBe('[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,1…')
    const cyc: Record<string, unknown> = { a: 1 }
    cyc.self = cyc
    expect(showValue(cyc)).toBe('{"a":1,"self":"[Circular]"}')
    expect(showValue({ big: 2n ** 64n, n: [Number.NaN] })).toBe(`{"big":"${2n ** 64n}","n":[NaN]}`)
    expect(showValue({ s: 'x'.repeat(10_000) })).toBe(`{"s":"${'x'.repeat(34)}…`)
    expect(showValue('y'.repeat(100))).toBe(`"${'y'.repeat(40)}…"`)
    // Shared (not circular) references are shown each time.
    const shared = [1]
    expect(showValue([shared, shared])).toBe('[[1],[1]]')
  })

  test('a report line for a record JSON cannot write names the shortened field and keeps the rest', () => {
    const line = JSON.parse(reportLine({ file: 'f', line: 3, error: 'bad' }, { id: 1n, j: JSON.parse(deep(100_000)) }))
    expect(line).toMatchObject({ file: 'f', line: 3, error: 'bad', record: { id: 1 }, shortenedFields: ['j'] })
    expect(line.record.j).toStartWith('[[[[')
    expect(line.record.j.length).toBeLessThan(1100)
  })
})

describe('importing a deeply nested JSON cell', () => {
  const file = join(dir, 'deep.jsonl')
  beforeAll(() => writeFileSync(file, `{"id":1,"j":[1]}\n{"id":2,"j":${deep(100_000)}}\n{"id":3,"j":[3]}\n`))

  test('abort mode: the error names the line and the column (as at depth 2000), not an internal error', async () => {
    await db.createTable('deep', { id: 'int', j: 'json?' })
    const e = (await rejection(importFile(db, 'deep', file))) as Error & { code?: string; details?: Record<string, unknown> }
    expect(e.code).toBe('INVALID_ROW')
    expect(e.message).toContain("line 2, column 'j'")
    expect(e.message).toContain('got [[[[')
    expect(e.details).toMatchObject({ line: 2, column: 'j' })
  })

  test('skip mode: the row goes to the report (shortened) and the others import', async () => {
    const report = join(dir, 'deep-report.jsonl')
    const r = await importFile(db, 'deep_skip', file, { schema: { j: 'json?' }, onBadRow: 'skip', reportFile: report })
    expect(r.rowsInserted).toBe(2)
    const lines = readFileSync(report, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ line: 2, column: 'j', record: { id: 2 }, shortenedFields: ['j'] })
  })
})
