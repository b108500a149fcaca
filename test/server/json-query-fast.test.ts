import { expect, test } from 'bun:test'
import * as v from 'valibot'
import { fastJsonQuery, JsonQuerySchema } from '../../src/api/json-query.ts'

// The query JSON's fast reader (src/api/json-query.ts) must never accept what the schema refuses, and must read what
// it accepts exactly as the schema does: it is checked here against the schema on valid bodies and on mutations.

const BODIES: unknown[] = [
  { table: 't', where: { fn: 'eq', args: [{ col: 'id' }, { lit: 5 }] } },
  { table: 'd/t:3', select: [{ name: 'a', expr: { col: 'x', tbl: 'd/t' } }, { name: 'b', expr: { fn: 'upper', args: [{ col: 's' }] } }], orderBy: [{ expr: { col: 'x' }, desc: true }, { expr: { col: 'y' } }], limit: 10, offset: 2 },
  { table: 't', select: { n: { fn: 'count' }, e: { col: 'c', prop: 'errortype' } }, groupBy: [{ col: 'g' }], distinct: true, count: false },
  { table: 't', where: { fn: 'similarity', args: [{ col: 'v' }], opts: { query: 'cat', idx: 'i' } } },
  { table: 't', joins: [{ table: 'u', on: { fn: 'eq', args: [{ col: 'id', tbl: 't' }, { col: 'id', tbl: 'u' }] }, how: 'left' }, { table: 'w', how: 'cross' }] },
  { table: 't', where: { lit: '2024-01-01', type: 'timestamp' } },
  { table: 't', sample: { n: 3, seed: 1 } },
  { table: 't', select: [] },
  { table: 't', where: { lit: { nested: [1, 2] } } },
]

/** Small changes that may or may not keep a body valid: every key removed, set to odd values, or an extra key added. */
function* mutations(x: unknown, set: (y: unknown) => unknown): Generator<unknown> {
  for (const odd of [undefined, null, '', 'x', 0, -1, 1.5, true, [], {}, { col: 'q' }, [{ col: 'q' }]]) yield set(odd)
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) yield* mutations(x[i], (y) => set(x.map((e, j) => (j === i ? y : e))))
  } else if (x && typeof x === 'object') {
    yield set({ ...x, extra: 1 })
    for (const k of Object.keys(x)) {
      const { [k]: _, ...rest } = x as Record<string, unknown>
      yield set(rest)
      yield* mutations((x as Record<string, unknown>)[k], (y) => set({ ...x, [k]: y }))
    }
  }
}

test('the fast reader agrees with the schema on valid bodies and thousands of mutations', () => {
  let accepted = 0
  let checked = 0
  for (const body of BODIES) {
    expect(fastJsonQuery(body) ?? v.parse(JsonQuerySchema, body)).toEqual(v.parse(JsonQuerySchema, body))
    for (const m of mutations(body, (y) => y)) {
      const json = m === undefined ? undefined : JSON.parse(JSON.stringify(m))
      const fast = fastJsonQuery(json)
      const slow = v.safeParse(JsonQuerySchema, json)
      checked++
      if (fast !== undefined) {
        accepted++
        expect(slow.success).toBe(true)
        expect(fast).toEqual(slow.output as never)
      }
    }
  }
  expect(checked).toBeGreaterThan(500)
  expect(accepted).toBeGreaterThan(100)
})
