import { expect, test } from 'bun:test'
import type { ByteInput } from '../../src/io/import/bytes.ts'
import { JsonLines } from '../../src/io/import/json-lines.ts'
import { jsonSource } from '../../src/io/import/json.ts'
import type { JsonOptions } from '../../src/io/import/json.ts'
import { RecordTooLong } from '../../src/io/import/record-limit.ts'
import type { SourceRecord } from '../../src/io/import/source.ts'

// The JSON reader (src/io/import/json.ts, json-lines.ts): the same records and line numbers whatever the chunk
// boundaries, each chunk scanned once, and a line or array element past the record limit refused as soon as a chunk
// takes it there.

/** An input that arrives in exactly these pieces. */
function pieces(parts: readonly string[]): ByteInput {
  const enc = new TextEncoder()
  return { name: 'in.jsonl', async *chunks() { for (const p of parts) yield enc.encode(p) } }
}

async function records(parts: readonly string[], options?: JsonOptions): Promise<SourceRecord[]> {
  const out: SourceRecord[] = []
  for await (const batch of jsonSource(pieces(parts), options).batches) out.push(...batch)
  return out
}

async function failure(parts: readonly string[], options?: JsonOptions): Promise<RecordTooLong> {
  try {
    await records(parts, options)
  } catch (e) {
    expect(e).toBeInstanceOf(RecordTooLong)
    return e as RecordTooLong
  }
  throw new Error('expected a RecordTooLong, the input was read')
}

test('line numbers count blank lines before, between and inside chunks, cut anywhere', async () => {
  const text = '\n \n{"id": 1}\n\n{"id": 2, "s": "a\\nb"}\r\n   \n{"id": 3}'
  const want = [{ loc: 3, values: { id: 1 } }, { loc: 5, values: { id: 2, s: 'a\nb' } }, { loc: 7, values: { id: 3 } }]
  expect(await records([text])).toEqual(want)
  for (let i = 0; i <= text.length; i++) {
    expect(await records([text.slice(0, i), text.slice(i)])).toEqual(want)
  }
  expect(await records([...text])).toEqual(want)
})

test('a line spanning many chunks is read whole, and the lines after it keep their numbers', async () => {
  const long = JSON.stringify({ id: 1, text: 'z'.repeat(300_000) })
  const text = `{"id": 0}\n${long}\n\n{"id": 2}\n`
  const got = await records(text.match(/[\s\S]{1,1000}/g)!)
  expect(got.map((r) => r.loc)).toEqual([1, 2, 4])
  expect(((got[1] as { values: Record<string, unknown> }).values.text as string).length).toBe(300_000)
})

test('a long line is scanned once, not again with each chunk (a 4 MiB line in 1 KiB chunks)', async () => {
  // Adding each chunk to the unfinished line and searching it again from its start took ~10 s here.
  const line = JSON.stringify({ id: 1, text: 'w'.repeat(4 << 20) })
  const chunks = `${line}\n${line}\n`.match(/[\s\S]{1,1024}/g)!
  const t0 = performance.now()
  const got = await records(chunks, { maxRecordChars: 8 << 20 })
  const ms = performance.now() - t0
  expect(got.map((r) => r.loc)).toEqual([1, 2])
  expect(ms).toBeLessThan(5000)
})

test('a line past the limit throws as soon as a chunk takes it there, naming its line', async () => {
  let sent = 0
  const endless: ByteInput = {
    name: 'endless.jsonl',
    async *chunks() {
      yield new TextEncoder().encode('{"id": 1}\n\n{"id": 2, "text": "')
      for (; sent < 1000; sent++) yield new TextEncoder().encode('a'.repeat(100))
    },
  }
  let e: unknown
  try {
    for await (const _ of jsonSource(endless, { maxRecordChars: 1000 }).batches) { /* read on */ }
  } catch (err) {
    e = err
  }
  expect(e).toBeInstanceOf(RecordTooLong)
  expect(sent).toBeLessThan(11) // not read to the end of the input
  expect((e as RecordTooLong).line).toBe(3)
  expect((e as RecordTooLong).message).toBe('line 3 is longer than 1000 characters (the limit for one record)')
})

test('the limit on a line is exact, whatever the chunks', () => {
  for (const size of [1, 3, 200]) {
    const at = `{"k":"${'x'.repeat(92)}"}`
    expect(at.length).toBe(100)
    const feed = (text: string) => {
      const p = new JsonLines(1, 100)
      const cut = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!
      return [...cut.flatMap((c) => p.feed(c)), ...p.feed('', true)]
    }
    expect(feed(`{}\n${at}\n{}`).map((l) => l.line)).toEqual([1, 2, 3])
    expect(feed(`{}\n${at}`).map((l) => l.line)).toEqual([1, 2])
    let e: unknown
    try {
      feed(`{}\n${at} \n{}`)
    } catch (err) {
      e = err
    }
    expect(e).toBeInstanceOf(RecordTooLong)
    expect((e as RecordTooLong).line).toBe(2)
  }
})

test('a JSON array element past the limit names the line it starts on, and an unclosed string as the likely cause', async () => {
  const e = await failure(['[\n{"id": 1},\n{"id": 2, "text": "never closed', ...Array(20).fill(' '.repeat(100)), '"}]'], { maxRecordChars: 1000 })
  expect(e.line).toBe(3)
  expect(e.message).toBe('the array element starting on line 3 is longer than 1000 characters (the limit for one record); it is still inside a string, so an unclosed quote (") is the likely cause')
  const nested = await failure(['[{"a": [', ...Array(20).fill('1,'.repeat(50)), '1]}]'], { maxRecordChars: 1000 })
  expect([nested.line, nested.message.includes('quote')]).toEqual([1, false])
  // Under the limit, the same elements whatever the chunks.
  const text = '[\n{"id": 1, "s": "]}\\""},\n {"id": 2}\n]'
  const want = [{ loc: 2, values: { id: 1, s: ']}"' } }, { loc: 3, values: { id: 2 } }]
  for (let i = 0; i <= text.length; i++) expect(await records([text.slice(0, i), text.slice(i)], { maxRecordChars: 40 })).toEqual(want)
})
