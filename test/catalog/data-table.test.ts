import { expect, test } from 'bun:test'
import {
  writeJobBatch, countDuplicateKeys, countNewerRows, countVectors, tableBlocks, createCurrentRowsIndex, createDataTable, createRowIdIndex, readVectors, rowIdsWrittenAfter, rowsEnded, deleteRows, discardUncommitted, emptyCounts, endRowsOfEndedBaseRows, insertRows, readCurrentByKey,
  undoVersionStep, updateRows,
} from '../../src/catalog/data-table/index.ts'
import type { ColumnMd, TableMd } from '../../src/catalog/metadata.ts'
import { computedPlans } from '../../src/catalog/computed.ts'
import type { TableState } from '../../src/catalog/state.ts'
import type { Queryable } from '../../src/store/types.ts'
import { CopyBinaryWriter } from '../../src/catalog/data-table/copy-binary.ts'
// The library's entrance registers the built-in functions the compiler emits (upper, comparisons).
import '../../src/index.ts'

// Exact SQL of the data-table layer (src/catalog/data-table/), in Kysely's style: each statement a write or a read
// sends is asserted as text and parameters, so a change of the physical layout shows up here as a reviewed diff.
// Behaviour is covered elsewhere (the conformance suites, test/store/staged-writes.test.ts); this pins the form.

/** A store that records statements and answers each with `rows` and `affected`. */
function recorder(rows: Record<string, unknown>[] = [], affected = 0) {
  const sent: { sql: string; params?: readonly unknown[] }[] = []
  const db: Queryable = {
    query: async <R>(sql: string, params?: readonly unknown[]) => (sent.push({ sql, ...(params ? { params } : {}) }), { rows: rows as R[], affectedRows: affected }),
    exec: async (sql: string) => void sent.push({ sql }),
  }
  return { db, sent }
}

const col = (id: number, name: string, type: string, extra: Partial<ColumnMd> = {}): ColumnMd => ({ id, name, type, addedIn: 0, ...extra })
const md: TableMd = {
  columns: [col(1, 'id', 'int'), col(2, 'text', 'string?'), col(3, 'loud', 'string?', { computed: { expr: { fn: 'upper', args: [{ col: 'text' }] }, onError: 'abort' } })],
  primaryKey: [1], nextColumnId: 4, mediaValidation: 'on_write',
}
const state: TableState = { id: 7, path: 'docs', kind: 'table', version: 4, md }

test('layout: a data table with version columns, the version indexes and the key index', async () => {
  const { db, sent } = recorder()
  await createDataTable(db, 7, md)
  expect(sent.map((s) => s.sql)).toEqual([
    'create table tessera_data."t7" (_rowid bigserial not null, _v_min integer not null, _v_max integer not null default 2147483647, c1 bigint, c2 text, c3 text, c3_et text, c3_em text)',
    'create index "t7_vmin" on tessera_data."t7" (_v_min)',
    'create index "t7_vmax" on tessera_data."t7" (_v_max) where _v_max <> 2147483647',
    'create unique index "t7_pk" on tessera_data."t7" (c1, _v_max)',
  ])
})

test('insert: per-column arrays through unnest() for small batches, one JSON document per batch above; SQL-computed columns in the statement', async () => {
  const { db, sent } = recorder([], 2)
  const counts = emptyCounts()
  await insertRows(db, state, 5, [{ id: 1, text: 'a' }, { id: 2, text: null }], new Map(), counts)
  expect(sent).toEqual([{
    sql: 'insert into tessera_data."t7" (_v_min, c1, c2, c3) select $1::integer, x.c1, x.c2, upper(x.c2) from unnest($2::bigint[], $3::text[]) as x(c1, c2)',
    params: [5, [1, 2], ['a', null]],
  }])
  expect([counts.inserted, counts.computed]).toEqual([2, 2])
  const big = recorder([], 3_000)
  await insertRows(big.db, state, 5, Array.from({ length: 3_000 }, (_, i) => ({ id: i, text: null })), new Map(), emptyCounts())
  expect(big.sent.map((s) => s.sql)).toEqual([
    'insert into tessera_data."t7" (_v_min, c1, c2, c3) select $1::integer, x.c1, x.c2, upper(x.c2) from jsonb_to_recordset($2::jsonb) as x(c1 bigint, c2 text)',
  ])
})

test('insert: float arrays (vectors) by binary COPY into a session table joined to the document by row, where the store can', async () => {
  const vmd: TableMd = { columns: [col(1, 'id', 'int'), col(2, 'emb', 'array<float32>[2]?'), col(3, 'm', 'array<float64>[2,1]?')], primaryKey: [1], nextColumnId: 4, mediaValidation: 'on_write' }
  const vstate: TableState = { id: 8, path: 'vecs', kind: 'table', version: 1, md: vmd }
  const { db, sent } = recorder([], 2)
  const copied: { target: string; bytes: Uint8Array }[] = []
  const withCopy: Queryable = { ...db, copyBinaryFrom: async (target, bytes) => (copied.push({ target, bytes: bytes.slice() }), 2) }
  await insertRows(withCopy, vstate, 5, [{ id: 1, emb: [0.5, -2], m: [[1], [2]] }, { id: 2, emb: null, m: null }], new Map(), emptyCounts())
  expect(sent).toEqual([
    { sql: 'create temporary table if not exists "tessera_stage_rd" (_ord integer, a0 real[], a1 double precision[])' },
    {
      sql: 'insert into tessera_data."t8" (_v_min, c1, c2, c3) select $1::integer, x.c1, x.c2, x.c3 from (select d.*, s.a0 as c2, s.a1 as c3 from jsonb_to_recordset($2::jsonb) as d(_ord integer, c1 bigint) join "tessera_stage_rd" s on s._ord = d._ord order by d._ord) as x',
      params: [5, '[{"_ord":0,"c1":1},{"_ord":1,"c1":2}]'],
    },
    { sql: 'truncate "tessera_stage_rd"' },
  ])
  expect(copied.map((c) => c.target)).toEqual(['"tessera_stage_rd"'])
  // COPY's binary format: signature, flags, extension; per row the field count, then length-prefixed fields (an
  // array: dims, null flag, element type, per dim size and lower bound, then length-prefixed elements); -1 ends.
  const v = new DataView(copied[0]!.bytes.buffer)
  let at = 19
  const int = (n: 2 | 4) => ((at += n), n === 2 ? v.getInt16(at - 2) : v.getInt32(at - 4))
  expect([int(2), int(4), int(4)]).toEqual([3, 4, 0])
  expect([int(4), int(4), int(4), int(4), int(4), int(4)]).toEqual([36, 1, 0, 700, 2, 1])
  expect([int(4), v.getFloat32(at), (at += 4, int(4)), v.getFloat32(at)]).toEqual([4, 0.5, 4, -2])
  at += 4
  expect([int(4), int(4), int(4), int(4), int(4), int(4), int(4), int(4)]).toEqual([52, 2, 0, 701, 2, 1, 1, 1])
  expect([int(4), v.getFloat64(at), (at += 8, int(4)), v.getFloat64(at)]).toEqual([8, 1, 8, 2])
  at += 8
  expect([int(2), int(4), int(4), int(4), int(4), int(2)]).toEqual([3, 4, 1, -1, -1, -1])
  expect(at).toBe(copied[0]!.bytes.length)
  // Where the store has no binary COPY (a server store), the arrays stay in the document.
  const plain = recorder([], 1)
  await insertRows(plain.db, vstate, 5, [{ id: 1, emb: [0.5, -2], m: null }], new Map(), emptyCounts())
  expect(plain.sent).toEqual([{ sql: 'insert into tessera_data."t8" (_v_min, c1, c2, c3) select $1::integer, x.c1, x.c2, x.c3 from jsonb_to_recordset($2::jsonb) as x(c1 bigint, c2 real[], c3 double precision[])', params: [5, '[{"c1":1,"c2":[0.5,-2]}]'] }])
})

test('update: ends the matching current row versions and inserts their successors, recomputing dependents', async () => {
  const { db, sent } = recorder([], 3)
  const counts = emptyCounts()
  await updateRows(db, state, 5, { fn: 'gt', args: [{ col: 'id' }, { lit: 10 }] }, new Map([[md.columns[1]!, { lit: 'new', type: 'string?' }]]), computedPlans(md), counts, ['(0,1)', '(2,5)'])
  expect(sent).toEqual([{
    sql: 'with old as (update tessera_data."t7" as t0 set _v_max = $7::integer where t0._v_max = 2147483647 and (t0.c1 > $3::bigint) and t0.ctid >= format(\'(%s,0)\', $4::int)::tid and t0.ctid < format(\'(%s,0)\', $5::int)::tid and t0.ctid = any($6::tid[]) returning t0.*) insert into tessera_data."t7" (_rowid, _v_min, c1, c2, c3, c3_et, c3_em) select old._rowid, $2::integer, old.c1, ($1::text), upper(($1::text)), null, null from old',
    params: ['new', 5, 10, 0, 3, ['(0,1)', '(2,5)'], 5],
  }])
  expect(counts.updated).toBe(3)
})

test('delete: ends the matching current row versions', async () => {
  const { db, sent } = recorder([], 1)
  await deleteRows(db, state, 5, { fn: 'eq', args: [{ col: 'text' }, { lit: 'x' }] }, emptyCounts())
  expect(sent).toEqual([{ sql: 'update tessera_data."t7" as t0 set _v_max = $2::integer where t0._v_max = 2147483647 and (t0.c2 = $1::text)', params: ['x', 5] }])
})

test('keys: current rows found by key through the key index', async () => {
  const { db, sent } = recorder()
  await readCurrentByKey(db, state, [{ id: 1 }, { id: 2 }], [md.columns[1]!])
  expect(sent).toEqual([{
    sql: 'select t._rowid, t.c1 as "id", t.c2 as "text" from tessera_data."t7" as t join jsonb_to_recordset($1::jsonb) as x(c1 bigint) on t.c1 = x.c1 where t._v_max = 2147483647',
    params: ['[{"c1":1},{"c1":2}]'],
  }])
  const dup = recorder([{ n: 0 }])
  await countDuplicateKeys(dup.db, 7, [1])
  expect(dup.sent.map((s) => s.sql)).toEqual(['select count(*)::int as n from (select c1 from tessera_data."t7" where _v_max = 2147483647 group by c1 having count(*) > 1) d'])
})

test('versions: a popped version is undone a step at a time (its rows first, then the rows it ended); leftovers at open', async () => {
  const first = recorder([], 200)
  expect(await undoVersionStep(first.db, 7, 5, 200)).toBe(200)
  expect(first.sent).toEqual([{ sql: 'delete from tessera_data."t7" where ctid = any(array(select ctid from tessera_data."t7" where _v_min = 5 limit $1))', params: [200] }])
  const open = recorder([], 0)
  await discardUncommitted(open.db, 7, 4)
  expect(open.sent).toEqual([
    { sql: 'delete from tessera_data."t7" where _v_min > $1', params: [4] },
    { sql: 'update tessera_data."t7" set _v_max = 2147483647 where _v_max <> 2147483647 and _v_max > $1', params: [4] },
  ])
})

test('views: view rows whose base row version ended in the synced range end too', async () => {
  const { db, sent } = recorder([], 0)
  await endRowsOfEndedBaseRows(db, 7, { from: 2, to: 4, viewId: 9, baseRowIdColumn: 'c4' }, 3)
  expect(sent).toEqual([{
    sql: 'update tessera_data."t9" as v set _v_max = $1 where v._v_max = 2147483647 and v._v_min < $1 and v.c4 in (select b._rowid from tessera_data."t7" as b where b._v_max > 2 and b._v_max <= 4 and b._v_min <= 2)',
    params: [3],
  }])
})

test('indexes: the physical indexes over current rows, the native index\'s reads in _rowid pages, the rows written after a version', async () => {
  const { db, sent } = recorder()
  await createCurrentRowsIndex(db, 7, 't7_e4', 'hnsw', '(c4::vector(3)) vector_cosine_ops', ' with (m = 8)')
  await createCurrentRowsIndex(db, 7, 't7_c2_fts_english', 'gin', "to_tsvector('english'::regconfig, c2)")
  await createRowIdIndex(db, 7)
  expect(sent.map((s) => s.sql)).toEqual([
    'create index if not exists "t7_e4" on tessera_data."t7" using hnsw ((c4::vector(3)) vector_cosine_ops) with (m = 8) where _v_max = 2147483647',
    'create index if not exists "t7_c2_fts_english" on tessera_data."t7" using gin (to_tsvector(\'english\'::regconfig, c2)) where _v_max = 2147483647',
    'create index if not exists "t7_rowid_cur" on tessera_data."t7" (_rowid) where _v_max = 2147483647',
  ])
  // A page of vectors: pgvector's binary form (dims, unused, big-endian floats) as base64, decoded here.
  const vec = Buffer.alloc(4 + 8)
  vec.writeInt16BE(2, 0)
  vec.writeFloatBE(0.5, 4)
  vec.writeFloatBE(-1, 8)
  // A catch-up's pages are _rowid ranges from the lowest row of the version range not read yet.
  const catchUp: { sql: string; params?: readonly unknown[] }[] = []
  const catchUpAnswers = [[{ lo: '11', hi: 30 }], [{ r: '11', v: vec.toString('base64') }, { r: 12, v: vec.toString('base64') }], [{ lo: null, hi: null }]]
  const catchUpDb: Queryable = { query: async <R>(sql: string, params?: readonly unknown[]) => (catchUp.push({ sql, ...(params ? { params } : {}) }), { rows: catchUpAnswers.shift() as R[], affectedRows: 0 }), exec: async () => undefined }
  const got = await readVectors(catchUpDb, 7, 4, 2, { after: 3, upTo: 9 }, 4, 2)
  expect([[...got.keys], [...got.vectors], got.lastRowId]).toEqual([[11n, 12n], [0.5, -1, 0.5, -1], 12])
  const rest = await readVectors(catchUpDb, 7, 4, 2, { after: 3, upTo: 9 }, got.lastRowId, 2)
  expect([rest.keys.length, rest.lastRowId]).toEqual([0, -1])
  const bounds = 'select min(_rowid) as lo, max(_rowid) as hi from tessera_data."t7" where _v_min > $1 and _v_min <= $2 and _v_max + 0 = 2147483647 and _rowid > $3'
  expect(catchUp).toEqual([
    { sql: bounds, params: [3, 9, 4] },
    { sql: "select _rowid as r, encode(vector_send(c4::vector), 'base64') as v from tessera_data.\"t7\" where _v_max = 2147483647 and _rowid > $1 and _rowid <= $2 and _v_min + 0 > $3 and _v_min + 0 <= $4 and c4 is not null order by _rowid", params: [10, 12, 3, 9] },
    { sql: bounds, params: [3, 9, 12] },
  ])
  // A build's pages are _rowid ranges up to the highest current _rowid (a page reads only its own rows).
  const answers = [[{ m: 25 }], [{ r: 11, v: vec.toString('base64') }], [{ m: 25 }], []]
  const build: { sql: string; params?: readonly unknown[] }[] = []
  const pages: Queryable = { query: async <R>(sql: string, params?: readonly unknown[]) => (build.push({ sql, ...(params ? { params } : {}) }), { rows: answers.shift() as R[], affectedRows: 0 }), exec: async () => undefined }
  const first = await readVectors(pages, 7, 4, 2, { after: -1, upTo: 9 }, 0, 20)
  const second = await readVectors(pages, 7, 4, 2, { after: -1, upTo: 9 }, first.lastRowId, 20)
  expect([[...first.keys], first.lastRowId, second.keys.length, second.lastRowId]).toEqual([[11n], 20, 0, -1])
  expect(build).toEqual([
    { sql: 'select max(_rowid) as m from tessera_data."t7" where _v_max = 2147483647' },
    { sql: "select _rowid as r, encode(vector_send(c4::vector), 'base64') as v from tessera_data.\"t7\" where _v_max = 2147483647 and _rowid > $1 and _rowid <= $2 and _v_min + 0 <= $3 and c4 is not null order by _rowid", params: [0, 20, 9] },
    { sql: 'select max(_rowid) as m from tessera_data."t7" where _v_max = 2147483647' },
    { sql: "select _rowid as r, encode(vector_send(c4::vector), 'base64') as v from tessera_data.\"t7\" where _v_max = 2147483647 and _rowid > $1 and _rowid <= $2 and _v_min + 0 <= $3 and c4 is not null order by _rowid", params: [20, 40, 9] },
  ])
  // Where the store answers COPY (select) TO in binary (PGlite), pages come that way: the integers inline (COPY takes
  // no parameters), the same rows and order; a vector of another dimension count is left out, as from base64 text.
  const copies: string[] = []
  const copying: Queryable = {
    query: async <R>() => ({ rows: [{ m: 25 }] as R[], affectedRows: 0 }),
    exec: async () => undefined,
    copyBinaryTo: async (select: string) => {
      copies.push(select)
      const w = new CopyBinaryWriter()
      for (const [rowId, bytes] of [[11, vec], [12, Buffer.from([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])], [13, vec]] as const) {
        w.row(2)
        w.int64(rowId)
        w.bytes(bytes)
      }
      return w.finish()
    },
  }
  const copied = await readVectors(copying, 7, 4, 2, { after: -1, upTo: 9 }, 0, 20)
  expect([[...copied.keys], [...copied.vectors], copied.lastRowId]).toEqual([[11n, 13n], [0.5, -1, 0.5, -1], 20])
  expect(copies).toEqual(['select _rowid, vector_send(c4::vector) from tessera_data."t7" where _v_max = 2147483647 and _rowid > 0 and _rowid <= 20 and _v_min + 0 <= 9 and c4 is not null order by _rowid'])
  const ended = recorder([{ r: 5 }])
  expect([...(await rowsEnded(ended.db, 7, 3, 9))]).toEqual([5n])
  expect(ended.sent).toEqual([{
    sql: 'select distinct d._rowid as r from tessera_data."t7" d where d._v_max > $1 and d._v_max <= $2 and d._v_max <> 2147483647 and not exists (select 1 from tessera_data."t7" c where c._v_max = 2147483647 and c._rowid = d._rowid)',
    params: [3, 9],
  }])
  const count = recorder([{ n: 4 }])
  expect(await countVectors(count.db, 7, 4, 9)).toBe(4)
  expect(count.sent).toEqual([{ sql: 'select count(*)::int as n from tessera_data."t7" where _v_max = 2147483647 and _v_min <= $1 and c4 is not null', params: [9] }])
  // A range on _v_min, so Postgres probes its index even without statistics.
  expect(rowIdsWrittenAfter(7, 9)).toBe('array(select _rowid from tessera_data."t7" where _v_min > 9 and _v_min <= 2147483647 and _v_max + 0 = 2147483647)')
  // How far an index is behind (a search ranks a long tail in slices), and the heap's size in blocks (the slices).
  const newer = recorder([{ n: 513 }])
  expect(await countNewerRows(newer.db, 7, 9, 513)).toBe(513)
  expect(newer.sent).toEqual([{ sql: 'select count(*)::int as n from (select 1 from tessera_data."t7" where _v_min > $1 and _v_min <= 2147483647 and _v_max + 0 = 2147483647 limit $2) as newer', params: [9, 513] }])
  const blocks = recorder([{ blocks: 40 }])
  expect(await tableBlocks(blocks.db, 7)).toBe(40)
  expect(blocks.sent).toEqual([{ sql: "select (pg_relation_size($1::regclass) / current_setting('block_size')::int)::int as blocks", params: ['tessera_data."t7"'] }])
})

test('job batches: a vector column is written by binary COPY joined to the document by row where the store can, else as a document', async () => {
  const jmd: TableMd = {
    columns: [col(1, 'text', 'string?'), col(2, 'emb', 'array<float32>[2]?', { computed: { expr: { fn: 'lexical_embed', args: [{ col: 'text' }], opts: { dims: 2 } }, onError: 'ignore' } })],
    primaryKey: [], nextColumnId: 3, mediaValidation: 'on_write',
  }
  const jstate: TableState = { id: 9, path: 'docs', kind: 'table', version: 3, md: jmd }
  const plan = computedPlans(jmd)[0]!
  const rows = [{ _rowid: 1, _tid: '(0,1)', _h: 'a', text: 'x' }, { _rowid: 2, _tid: '(0,2)', _h: 'b', text: 'y' }]
  const ts = { values: [[0.5, -1], null], errors: [null, { errortype: 'E', errormsg: 'no' }] }
  const set = 'update tessera_data."t9" as t set c2 = x.v, c2_et = x.et, c2_em = x.em'
  const match = "where t.ctid = x._tid::tid and t.ctid >= format('(%s,0)', $1::int)::tid and t.ctid < format('(%s,0)', $2::int)::tid and t._rowid = x._rowid and t._v_max = 2147483647 and md5(row(t.c1)::text) = x._h"
  const written = [{ _rowid: 1 }, { _rowid: 2 }]
  const { db, sent } = recorder(written, 2)
  const copied: string[] = []
  const withCopy: Queryable = { ...db, copyBinaryFrom: async (target) => (copied.push(target), 2) }
  await writeJobBatch(withCopy, jstate, plan, rows, ts)
  expect(copied).toEqual(['"tessera_stage_r"'])
  expect(sent).toEqual([
    { sql: 'create temporary table if not exists "tessera_stage_r" (_ord integer, a0 real[])' },
    {
      sql: `${set} from (select d.*, s.a0 as v from jsonb_to_recordset($3::jsonb) as d(_ord integer, _rowid bigint, _tid text, _h text, et text, em text) join "tessera_stage_r" s on s._ord = d._ord order by d._ord) as x ${match} returning t._rowid`,
      params: [0, 1, '[{"_ord":0,"_rowid":1,"_tid":"(0,1)","_h":"a","et":null,"em":null},{"_ord":1,"_rowid":2,"_tid":"(0,2)","_h":"b","et":"E","em":"no"}]'],
    },
    { sql: 'truncate "tessera_stage_r"' },
  ])
  const plain = recorder(written, 2)
  await writeJobBatch(plain.db, jstate, plan, rows, ts)
  expect(plain.sent).toEqual([{
    sql: `${set}\n     from jsonb_to_recordset($3::jsonb) as x(_rowid bigint, _tid text, _h text, v real[], et text, em text)\n     ${match} returning t._rowid`,
    params: [0, 1, '[{"_rowid":1,"_tid":"(0,1)","_h":"a","v":[0.5,-1],"et":null,"em":null},{"_rowid":2,"_tid":"(0,2)","_h":"b","v":null,"et":"E","em":"no"}]'],
  }])
})

test('job batches: rows whose version moved since the read (another write) are found again by _rowid, inputs unchanged', async () => {
  const jmd: TableMd = {
    columns: [col(1, 'text', 'string?'), col(2, 'n', 'int?', { computed: { expr: { fn: 'test_len', args: [{ col: 'text' }] }, onError: 'ignore' } })],
    primaryKey: [], nextColumnId: 3, mediaValidation: 'on_write',
  }
  const jstate: TableState = { id: 9, path: 'docs', kind: 'table', version: 3, md: jmd }
  const plan = { ...computedPlans({ ...jmd, columns: [jmd.columns[0]!] }).at(0), column: jmd.columns[1]!, expr: { col: 'text' }, mode: 'ts' as const, inputs: new Set(['text']), reads: new Set<string>() }
  const rows = [{ _rowid: 1, _tid: '(0,1)', _h: 'a', text: 'x' }, { _rowid: 2, _tid: '(0,2)', _h: 'b', text: 'yy' }]
  const ts = { values: [1, 2], errors: [null, null] }
  // The first statement (by address) writes row 1 only: row 2's tuple moved.
  const sent: { sql: string; params?: readonly unknown[] }[] = []
  const db: Queryable = {
    query: async <R>(sql: string, params?: readonly unknown[]) => (sent.push({ sql, ...(params ? { params } : {}) }), { rows: (sent.length === 1 ? [{ _rowid: 1 }] : [{ _rowid: 2 }]) as R[], affectedRows: 1 }),
    exec: async (sql: string) => void sent.push({ sql }),
  }
  await writeJobBatch(db, jstate, plan, rows, ts)
  expect(sent).toHaveLength(2)
  expect(sent[0]!.sql).toContain('t.ctid = x._tid::tid')
  expect(sent[1]!.sql).not.toContain('ctid')
  expect(sent[1]!.sql).toContain('t._rowid = x._rowid and t._v_max = 2147483647 and md5(row(t.c1)::text) = x._h returning t._rowid')
  expect(sent[1]!.params).toEqual(['[{"_rowid":2,"_tid":"(0,2)","_h":"b","v":2,"et":null,"em":null}]'])
})
