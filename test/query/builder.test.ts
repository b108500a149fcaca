import { expect, test } from 'bun:test'
import { col } from '../../src/query/expr.ts'
import type { QueryExecutor } from '../../src/query/query.ts'
import { Query } from '../../src/query/query.ts'
import { ResultSet } from '../../src/query/results.ts'
import type { QuerySpec, SourceRef } from '../../src/query/spec.ts'
import { rejection } from '../support/settle.ts'

// The builder alone, on an executor that records what it is asked (no planner, no store, no server): what each
// terminal method hands its executor is the whole contract between the builder and the two executors.

function recording(rows: number, versions: Record<string, number>) {
  const specs: QuerySpec<SourceRef>[] = []
  const asked: string[] = []
  const executor: QueryExecutor<SourceRef> = {
    async collect(spec) {
      specs.push(spec)
      const from = spec.offset ?? 0
      const n = Math.max(0, Math.min(spec.limit ?? rows, rows - from))
      return new ResultSet([{ name: 'i', type: 'int' }], Array.from({ length: n }, (_, k) => ({ i: from + k })))
    },
    async count(spec) {
      specs.push(spec)
      return rows
    },
    async currentVersion(source) {
      asked.push(source.path)
      return versions[source.path]!
    },
  }
  const q = new Query<Record<string, unknown>, SourceRef>(executor, { from: { path: 'a', version: undefined }, joins: [], orderBy: [] })
  return { q, specs, asked }
}

const joinable = (path: string, version?: number) => ({ querySource: () => ({ path, version }) })

test('stream() pins every table at its own current version and pages by offset, in insertion order', async () => {
  const { q, specs, asked } = recording(5, { a: 7, b: 3 })
  const seen = []
  for await (const r of q.join(joinable('b'), { how: 'cross' }).join(joinable('c', 1), { how: 'cross' }).stream({ batchSize: 2 })) seen.push(r.i)
  expect(seen).toEqual([0, 1, 2, 3, 4])
  expect(asked).toEqual(['a', 'b']) // c is read at version 1 already
  expect(specs.map((s) => [s.from.version, s.joins.map((j) => j.source.version), s.offset, s.limit, s.insertionOrder])).toEqual([
    [7, [3, 1], 0, 2, 'asc'],
    [7, [3, 1], 2, 2, 'asc'],
    [7, [3, 1], 4, 2, 'asc'],
  ])
})

test('stream() keeps the query\'s own offset and limit', async () => {
  const { q, specs } = recording(100, { a: 1 })
  const seen = []
  for await (const r of q.offset(3).limit(5).stream({ batchSize: 2 })) seen.push(r.i)
  expect(seen).toEqual([3, 4, 5, 6, 7])
  expect(specs.map((s) => [s.offset, s.limit])).toEqual([[3, 2], [5, 2], [7, 1]])
})

test('head, tail and first hand the executor the spec they mean; tail with an order counts first', async () => {
  const { q, specs } = recording(10, {})
  await q.head(3)
  expect(specs.at(-1)).toMatchObject({ limit: 3, insertionOrder: 'asc' })
  expect((await q.tail(2)).rows).toEqual([{ i: 1 }, { i: 0 }]) // the executor's newest-first page, oldest first
  expect(specs.at(-1)).toMatchObject({ limit: 2, insertionOrder: 'desc' })
  await q.orderBy(col('i')).tail(4)
  expect(specs.at(-1)).toMatchObject({ offset: 6, limit: 4 })
  await q.first()
  expect(specs.at(-1)!.limit).toBe(1)
  expect(q.toJSON()).toEqual({ table: 'a' }) // immutable: head/tail/first changed only the specs they ran
})

test('writes go to the executor\'s update/delete; without them (a read-only source) the builder refuses', async () => {
  const { q } = recording(1, {})
  const msg = ((await rejection(() => q.where(col('i').eq(1)).update({ x: 1 }))) as Error).message
  expect(msg).toBe('update() works on a filtered table, not on joins or read-only versions')
  const written: unknown[] = []
  const executor: QueryExecutor<SourceRef> = {
    collect: async () => new ResultSet([], []),
    count: async () => 0,
    currentVersion: async () => 0,
    update: async (spec, values) => (written.push([spec.where, values]), { version: 1 } as never),
    delete: async (spec) => (written.push([spec.where]), { version: 2 } as never),
  }
  const w = new Query<Record<string, unknown>, SourceRef>(executor, { from: { path: 'a', version: undefined }, joins: [], orderBy: [] }).where(col('i').eq(1))
  await w.update({ x: 1 })
  await w.delete()
  expect(written).toEqual([[w.spec.where, { x: 1 }], [w.spec.where]])
  expect(((await rejection(() => w.join(joinable('b'), { how: 'cross' }).delete())) as Error).message).toContain('not on joins')
})

test('the JSON form names each table by path, with :N when it is pinned', () => {
  const { q } = recording(0, {})
  expect(q.join(joinable('b', 4), { on: col('i').eq(col('j')), how: 'left' }).limit(2).toJSON()).toEqual({
    table: 'a',
    limit: 2,
    joins: [{ table: 'b:4', on: { fn: 'eq', args: [{ col: 'i' }, { col: 'j' }] }, how: 'left' }],
  })
})
