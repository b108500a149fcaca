import { expect, test } from 'bun:test'
import { CsvRecords } from '../../src/io/import/csv-records.ts'

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
