import { expect, test } from 'bun:test'
import { CsvRecords } from '../../src/io/import/csv-records.ts'
import type { CsvRecord, CsvRecordsOptions } from '../../src/io/import/csv-records.ts'
import { RecordTooLong } from '../../src/io/import/record-limit.ts'

// The import's CSV parser (src/io/import/csv-records.ts): COPY's null rules, record end lines across quoted line
// breaks, and the same records whatever the chunk boundaries (a file arrives in 1 MiB pieces, an upload in any).

const all = (text: string) => new CsvRecords().feed(text, true)

test('null for an unquoted empty field, the empty string for a quoted one; "" is a quote; BOM dropped', () => {
  expect(all('\uFEFFid,name\n1,\n2,""\n3,"a ""b"""\n')).toEqual([
    { fields: ['id', 'name'], line: 1 }, { fields: ['1', null], line: 2 }, { fields: ['2', ''], line: 3 }, { fields: ['3', 'a "b"'], line: 4 },
  ])
})

test('a record ends on the line its last field ends: quoted line breaks count, \\r\\n and \\r end records too', () => {
  expect(all('a,b\r\n1,"x\r\ny"\r\n2,z\r3,w').map((r) => ('fields' in r ? [r.fields, r.line] : r))).toEqual([
    [['a', 'b'], 1], [['1', 'x\r\ny'], 3], [['2', 'z'], 4], [['3', 'w'], 5],
  ])
})

test('broken quoting is an error naming its line, and parsing goes on at the next line', () => {
  const r = all('id,name\n40,"ab"c"\n41,x\n1,a"b\n42,"open\n')
  expect(r.map((x) => ('error' in x ? [x.line, x.error.split(':')[0]] : [x.line, x.fields]))).toEqual([
    [1, ['id', 'name']], [2, 'Invalid Closing Quote'], [3, ['41', 'x']], [4, 'Invalid Opening Quote'], [5, 'Quote Not Closed'],
  ])
  // An unclosed quote is named by the line its record starts on, whether or not a line break follows it.
  for (const text of ['id\n"open', 'id\n"open\n', 'id\n"open\nmore\nlines']) expect(all(text)[1]).toMatchObject({ error: expect.stringContaining('Quote Not Closed'), line: 2 })
})

test('the same records at every chunk boundary', () => {
  for (const text of ['id,name\n1,a\n2,""\n', 'a,b\r\n1,"x\r\ny"\r\n2,"q""uote"\r\n', 'x\n"multi\nline",z\n7,8', 'a\tb\n1\t\n']) {
    const delimiter = text.includes('\t') ? '\t' : ','
    const whole = new CsvRecords(delimiter).feed(text, true)
    for (let k = 1; k < text.length; k++) {
      const p = new CsvRecords(delimiter)
      expect([...p.feed(text.slice(0, k)), ...p.feed(text.slice(k), true)]).toEqual(whole)
    }
  }
})

// ---- chunk boundaries, long records, the record length limit ----

/** The records of `text` fed in the given pieces (then the end of the input). */
function fedIn(pieces: readonly string[], delimiter = ',', options?: CsvRecordsOptions): CsvRecord[] {
  const p = new CsvRecords(delimiter, options)
  return [...pieces.flatMap((piece) => p.feed(piece)), ...p.feed('', true)]
}

/** What `fn` threw (fails when it returned). */
function thrown(fn: () => unknown): RecordTooLong {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(RecordTooLong)
    return e as RecordTooLong
  }
  throw new Error('expected a RecordTooLong, nothing was thrown')
}

test('quoted line breaks, "" and broken records: the same records cut at any one or two places, or fed a character at a time', () => {
  // "" right at a cut, \r\n inside quotes, a record ending in a bare \r, and broken records ending in \r\n, whose
  // \n in the next chunk must not read as one more (blank) record.
  const text = 'id,"te""xt"\r\n1,"a\r\n""b"""\n2,"""",""\r3,"x\ny\nz","q"\n4,"ab"c"\r\n5,d"e\r\n6,"""\n"""\n7,'
  const whole = new CsvRecords().feed(text, true)
  expect(whole.map((r) => ('fields' in r ? [r.line, ...r.fields] : [r.line, r.error.split(':')[0]]))).toEqual([
    [1, 'id', 'te"xt'], [3, '1', 'a\r\n"b"'], [4, '2', '"', ''], [7, '3', 'x\ny\nz', 'q'], [8, 'Invalid Closing Quote'],
    [9, 'Invalid Opening Quote'], [11, '6', '"\n"'], [12, '7', null],
  ])
  for (let i = 0; i <= text.length; i++) {
    expect(fedIn([text.slice(0, i), text.slice(i)])).toEqual(whole)
    for (let j = i; j <= text.length; j++) expect(fedIn([text.slice(0, i), text.slice(i, j), text.slice(j)])).toEqual(whole)
  }
  expect(fedIn([...text])).toEqual(whole)
  // The last piece may come with the end of the input.
  const p = new CsvRecords()
  expect([...p.feed(text.slice(0, 40)), ...p.feed(text.slice(40), true)]).toEqual(whole)
})

test('records spanning many chunks end on the right lines, and so do the records after them', () => {
  // A quoted field of 3,000 lines and 300 KB, its "" and \r\n included, then short records.
  const long = Array.from({ length: 3000 }, (_, i) => `line ${i} ""${'x'.repeat(90)}""`).join('\r\n')
  const text = `id,text\n1,"${long}"\n2,"two\nlines"\n3,short\n`
  const records = fedIn(text.match(/[\s\S]{1,1000}/g)!)
  expect(records.map((r) => r.line)).toEqual([1, 3001, 3003, 3004])
  expect((records[1] as { fields: string[] }).fields[1]).toBe(long.replaceAll('""', '"'))
  expect(records).toEqual(new CsvRecords().feed(text, true))
  // A broken record spanning chunks shows its whole text, from its first chunk on.
  const broken = `id,text\n1,"${'y'.repeat(5000)}"z\r\n2,ok\n`
  const r = fedIn(broken.match(/[\s\S]{1,64}/g)!)
  expect(r).toEqual([{ fields: ['id', 'text'], line: 1 }, { error: expect.stringContaining('Invalid Closing Quote: got "z" at line 2'), line: 2, raw: `1,"${'y'.repeat(5000)}"z` }, { fields: ['2', 'ok'], line: 3 }])
})

test('a long field is scanned once, not again with each chunk (a 4 MiB field in 1 KiB chunks)', () => {
  // Scanning the unfinished record again from its start with every chunk read ~8 GB here (20 s on 2 cores); once, 8 MiB.
  const field = 'v'.repeat(4 << 20)
  const text = `id,text\n1,"${field}"\n2,${field}\n`
  const chunks = text.match(/[\s\S]{1,1024}/g)!
  const t0 = performance.now()
  const records = fedIn(chunks, ',', { maxRecordChars: 8 << 20 })
  const ms = performance.now() - t0
  expect(records.map((r) => ('fields' in r ? [r.line, r.fields[1]!.length] : r))).toEqual([[1, 4], [2, 4 << 20], [3, 4 << 20]])
  expect(ms).toBeLessThan(5000)
})

test('a record past the limit throws as soon as a chunk takes it there, naming the line it starts on and the likely unclosed quote', () => {
  const p = new CsvRecords(',', { maxRecordChars: 1000 })
  expect(p.feed('id,text\n1,ok\n2,"x\ny",')).toEqual([{ fields: ['id', 'text'], line: 1 }, { fields: ['1', 'ok'], line: 2 }])
  p.feed('"opens on line 4 and never closes')
  let fed = 0
  const e = thrown(() => {
    for (; fed < 100; fed++) p.feed('a'.repeat(100))
  })
  expect(fed).toBe(9) // thrown by the 10th chunk, the one that took the record past 1,000 characters: not at the input's end
  expect(e.line).toBe(3)
  expect(e.limit).toBe(1000)
  expect(e.message).toBe('the record starting on line 3 is longer than 1000 characters (the limit for one record); it is still inside the quoted field opened on line 4, so an unclosed quote (") is the likely cause')

  // Unquoted, or past its quotes: the same limit, without the hint.
  const u = thrown(() => fedIn(['a,b\n', '1,', 'b'.repeat(600), 'b'.repeat(600), '\n'], ',', { maxRecordChars: 1000 }))
  expect([u.line, u.message]).toEqual([2, 'the record starting on line 2 is longer than 1000 characters (the limit for one record)'])
  expect(thrown(() => fedIn([`a,b\n1,"${'q'.repeat(600)}"`, `,${'r'.repeat(600)}`], ',', { maxRecordChars: 1000 })).message).not.toContain('quote')
})

test('the limit is on the record, whatever the chunks: exactly at it passes, one character more fails, in one chunk or many', () => {
  const at = `1,"${'x'.repeat(96)}"`
  expect(at.length).toBe(100)
  for (const text of [`h\n${at}\n`, `h\n${at}`, `h\r\n${at}\r\n`]) {
    for (const size of [text.length, 7, 1]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!
      expect(fedIn(chunks, ',', { maxRecordChars: 100 }).map((r) => r.line)).toEqual([1, 2])
      const over = text.replace('"x', '"xx')
      expect(thrown(() => fedIn(over.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!, ',', { maxRecordChars: 100 })).line).toBe(2)
    }
  }
})
