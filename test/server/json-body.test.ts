import { expect, test } from 'bun:test'
import { DepthExceeded, parseJsonStream } from '../../src/server/json-body.ts'
import { createApp } from '../../src/server/index.ts'
import { memoryDb } from '../support/db.ts'

// Big request bodies are read, scanned and parsed in slices (src/server/json-body.ts). What must hold: the value is
// exactly JSON.parse's, invalid text is refused, nesting is checked before parsing, and the thread is let go between
// slices. Small thresholds here make small texts take the sliced path.

const SMALL = { maxDepth: 40, splitArraysOver: 64, groupChars: 50, yieldEveryChars: 100 }

/** A stream that delivers `text`'s UTF-8 bytes in chunks of the given sizes (cycled), cutting multi-byte characters. */
function streamOf(text: string, sizes: number[] = [7, 1, 13, 64, 3]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text)
  let at = 0
  let k = 0
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close()
      const n = sizes[k++ % sizes.length]!
      controller.enqueue(bytes.slice(at, at + n))
      at += n
    },
  })
}

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({
  id: i, name: `row "${i}", [with] {brackets}, commas: and \\ slashes`, score: i / 7, tags: [i, `t${i}`, null, true],
  nested: { deep: [[i], { x: 'é漢字🙂' }] }, empty: [], obj: {},
}))


/** Runs `work` and counts the turns of the event loop that ran while it did (a setImmediate chain). */
async function countingTurns<T>(work: () => Promise<T>): Promise<[T, number]> {
  let turns = 0
  let running = true
  const tick = () => {
    if (!running) return
    turns++
    setImmediate(tick)
  }
  setImmediate(tick)
  try {
    return [await work(), turns]
  } finally {
    running = false
  }
}
test('the sliced parse gives exactly what JSON.parse gives', async () => {
  const bodies: unknown[] = [
    { rows: rows(40), onError: 'ignore' },
    { rows: rows(40), more: rows(3), n: 5, s: 'x'.repeat(200), nothing: null, t: true },
    rows(30), // a top-level array
    { a: [], b: [1], c: [[1, 2], [3]], d: 'small', rows: rows(25) },
    { '__proto__': { polluted: true }, rows: rows(10) },
    { big: 'é'.repeat(500) },
    [],
    {},
    { rows: [] },
    [[1, 2, 3], [4, 5, 6], 'a'.repeat(100)],
    42,
    'a string body that is long enough to be sliced, with "quotes" and \\ backslashes',
  ]
  for (const body of bodies) {
    for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2), ` \n${JSON.stringify(body, null, '\t')}\r\n `]) {
      for (const sizes of [[1], [7, 1, 13, 64, 3], [1 << 20]]) {
        const parsed = await parseJsonStream(streamOf(text, sizes), SMALL)
        expect(parsed).toEqual(JSON.parse(text))
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
          expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype)
          expect(Object.keys(parsed)).toEqual(Object.keys(JSON.parse(text)))
        }
      }
    }
  }
  // Duplicate keys: the last one wins, as in JSON.parse.
  const dup = `{"rows": ${JSON.stringify(rows(5))}, "rows": ${JSON.stringify(rows(6))}}`
  expect(await parseJsonStream(streamOf(dup), SMALL)).toEqual(JSON.parse(dup))
})

test('a blank body is undefined; text that is not JSON is refused, sliced or not', async () => {
  expect(await parseJsonStream(streamOf(''), SMALL)).toBeUndefined()
  expect(await parseJsonStream(streamOf(' \n\t '), SMALL)).toBeUndefined()
  const good = JSON.stringify({ rows: rows(20) })
  const bad = [
    good.replace('},{', '},,{'), // an empty element
    good.replace(/}]}$/, '},]}'), // a trailing comma
    good.replace('"rows":', '"rows"'), // no colon
    good.replace('"rows":', 'rows:'), // a key that is not a string
    `${good} {}`, // two values
    good.slice(0, -1), // not closed
    good.replace('"id":0', '"id":01'),
    `{"a": 1, "rows": ${JSON.stringify(rows(20))}, }`,
    `{"a": 1 : 2, "rows": ${JSON.stringify(rows(20))}}`,
    `[${JSON.stringify(rows(20)).slice(1, -1)},,1]`,
    `{"rows": [,${JSON.stringify(rows(20)).slice(1)}}`,
  ]
  for (const text of bad) {
    expect(() => JSON.parse(text)).toThrow()
    const e = await parseJsonStream(streamOf(text), SMALL).then(() => undefined, (err: unknown) => err)
    expect(e, text.slice(0, 80)).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect((e as Error).message).toContain('request body is not valid JSON')
  }
})

test('nesting beyond the limit is refused by the scan, before the rest is parsed', async () => {
  const deep = `{"rows": [${'['.repeat(50)}${']'.repeat(50)}]}`
  const e = await parseJsonStream(streamOf(deep), SMALL).then(() => undefined, (err: unknown) => err)
  expect(e).toBeInstanceOf(DepthExceeded)
  // Brackets inside strings do not count.
  const inString = JSON.stringify({ rows: ['['.repeat(100)] })
  expect(await parseJsonStream(streamOf(inString), SMALL)).toEqual(JSON.parse(inString))
})

test('the content check runs at the first non-blank character, before the rest is read', async () => {
  let pulled = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++
      controller.enqueue(new TextEncoder().encode(pulled === 1 ? '   ' : '{"a": 1, "b": [1, 2, 3]}'))
      if (pulled > 100) controller.close()
    },
  })
  const e = await parseJsonStream(body, { ...SMALL, onContent: () => { throw new Error('not JSON content') } }).then(() => undefined, (err: unknown) => err)
  expect((e as Error).message).toBe('not JSON content')
  expect(pulled).toBeLessThan(5)
})

test('the event loop runs between slices of a big body', async () => {
  const text = JSON.stringify({ rows: rows(12_000) }) // ~2.4 MB
  const [parsed, turns] = await countingTurns(() => parseJsonStream(streamOf(text, [1 << 20]), { maxDepth: 40 }))
  expect((parsed as { rows: unknown[] }).rows.length).toBe(12_000)
  // Decoding + scanning, then parsing in ~256 kB groups, a turn per ~1 MB of that work (~4.4M characters of it):
  // turns in between. A single JSON.parse of the whole text (the old way) let none in.
  expect(turns).toBeGreaterThanOrEqual(3)
  const many = JSON.stringify({ rows: rows(4000) })
  const [, turns2] = await countingTurns(() => parseJsonStream(streamOf(many, [1 << 20]), { maxDepth: 40, yieldEveryChars: 10_000, groupChars: 10_000, splitArraysOver: 10_000 }))
  // Groups of at least 10k characters, a turn after each: about one turn per 10k characters parsed.
  expect(turns2).toBeGreaterThan(many.length / 20_000)
})

test('over HTTP: a big insert body of unknown length and one with a length both insert every row; bad ones are 4xx', async () => {
  const db = await memoryDb()
  try {
    await db.createTable('t', { id: 'int', name: 'string', meta: 'json?' }, { primaryKey: 'id' })
    const app = createApp(db)
    const body = (from: number, n: number) => JSON.stringify({ rows: Array.from({ length: n }, (_, i) => ({ id: from + i, name: `n "${from + i}" é`, meta: { k: [from + i] } })) })
    const big = body(0, 8000) // ~400 kB: over the small-body bound
    const withLength = await app.request('/api/v1/tables/t/-/rows', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(big)) }, body: big })
    expect(withLength.status).toBe(201)
    const chunked = await app.request('/api/v1/tables/t/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: streamOf(body(8000, 8000), [65536]), duplex: 'half' } as RequestInit)
    expect(chunked.status).toBe(201)
    const t = await db.getTable('t')
    expect(await t.count()).toBe(16_000)
    const row = (await t.where(t.c.id.eq(12_345)).collect()).rows[0]!
    expect(row).toEqual({ id: 12_345, name: 'n "12345" é', meta: { k: [12_345] } })
    const bad = big.replace('},{', '},,{')
    const refused = await app.request('/api/v1/tables/t/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: bad })
    expect(refused.status).toBe(400)
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('not valid JSON')
    const plain = await app.request('/api/v1/tables/t/-/rows', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: streamOf(big, [65536]), duplex: 'half' } as RequestInit)
    expect(plain.status).toBe(415)
    const deep = `{"rows": [${'['.repeat(300)}${']'.repeat(300)}], "pad": "${'x'.repeat(300_000)}"}`
    const tooDeep = await app.request('/api/v1/tables/t/-/rows', { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep })
    expect(tooDeep.status).toBe(400)
    expect(((await tooDeep.json()) as { error: { message: string } }).error.message).toContain('nests deeper than')
    expect(await t.count()).toBe(16_000)
  } finally {
    await db.close()
  }
})

test('an answer of many rows is written in slices: the same text as one JSON.stringify, other work runs between', async () => {
  const db = await memoryDb()
  try {
    const t = await db.createTable('a', { id: 'int', name: 'string', data: 'binary?', meta: 'json?' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 6_500 }, (_, i) => ({ id: i, name: `n "${i}" é`, data: i % 3 === 0 ? new Uint8Array([i % 256, 1]) : null, meta: i % 2 ? { k: [i] } : null })))
    const app = createApp(db)
    for (const [path, init] of [
      ['/api/v1/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'a', orderBy: [{ expr: { col: 'id' } }] }) }],
      ['/api/v1/tables/a/-/rows?limit=5000&offset=100', {}],
    ] as const) {
      const res = await app.request(path, init)
      expect(res.status).toBe(200)
      const [text, turns] = await countingTurns(() => res.text())
      const body = JSON.parse(text) as { rows: { id: number; data: string | null }[]; columns?: unknown }
      expect(text).toBe(JSON.stringify(body))
      expect(body.rows.length).toBe(path.includes('limit') ? 5_000 : 6_500)
      const first = body.rows[0]!
      expect(first.data).toBe(first.id % 3 === 0 ? Buffer.from([first.id % 256, 1]).toString('base64') : null)
      // Slices of 1,000 rows, a turn of the event loop before each.
      expect(turns).toBeGreaterThanOrEqual(5)
    }
    const paged = JSON.parse(await (await app.request('/api/v1/tables/a/-/rows?limit=5000&offset=100')).text()) as Record<string, unknown>
    expect(Object.keys(paged)).toContain('total')
    expect([paged.total, paged.offset, paged.limit]).toEqual([6_500, 100, 5_000])
  } finally {
    await db.close()
  }
})
