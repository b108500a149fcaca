import { describe, expect, test } from 'bun:test'
import '../../src/functions/index.ts'
import { agg, col, lit } from '../../src/index.ts'
import type { Expr } from '../../src/index.ts'
import { compileExpr } from '../../src/query/compiler.ts'
import type { ColNode } from '../../src/query/nodes/index.ts'
import { ParamList, quoteIdent } from '../../src/query/sql.ts'
import type { Scope } from '../../src/query/typecheck.ts'
import { parseType } from '../../src/types/index.ts'

// Exact SQL text and parameters for representative expressions (Kysely's testSql habit): values are always $n
// parameters, never spliced into the text.

const TYPES: Record<string, string> = { i: 'int?', f: 'float?', s: 'string?', j: 'json?', ts: 'timestamp?', d: 'date?', arr: 'array<int64>?', b: 'bool?' }
const scope: Scope = { resolve: (n: ColNode) => ({ sql: `t0.${n.col}`, type: parseType(TYPES[n.col]!), key: n.col }) }

function sql(e: Expr): { sql: string; params: unknown[] } {
  const params = new ParamList()
  return { sql: compileExpr(e.node, scope, params), params: params.values }
}

describe('compiler: exact SQL + params', () => {
  test('comparison with a literal', () => {
    expect(sql(col('i').gt(10))).toEqual({ sql: '(t0.i > $1::bigint)', params: [10] })
  })
  test('== null is IS NULL, with no parameter', () => {
    expect(sql(col('f').eq(null))).toEqual({ sql: '(t0.f is null)', params: [] })
    expect(sql(col('f').ne(null))).toEqual({ sql: '(t0.f is not null)', params: [] })
  })
  test('int literal against a float column is a float parameter', () => {
    expect(sql(col('f').le(0))).toEqual({ sql: '(t0.f <= $1::double precision)', params: [0] })
  })
  test('a string literal against a timestamp column is a timestamp parameter', () => {
    expect(sql(col('ts').gt('2024-01-01T00:00:00Z'))).toEqual({ sql: '(t0.ts > $1::timestamptz)', params: [new Date('2024-01-01T00:00:00Z')] })
  })
  test('and / or / not', () => {
    expect(sql(col('b').and(col('i').ge(0)).or(col('s').isNull().not()))).toEqual({
      sql: '((t0.b and (t0.i >= $1::bigint)) or (not (t0.s is null)))',
      params: [0],
    })
  })
  test('division never divides by zero; Python-style mod', () => {
    expect(sql(col('i').div(2))).toEqual({ sql: '(t0.i::double precision / nullif($1::bigint, 0))', params: [2] })
    expect(sql(col('i').mod(3))).toEqual({ sql: '(((t0.i % nullif($1::bigint, 0)) + $1::bigint) % nullif($1::bigint, 0))', params: [3] })
  })
  test('isin is = any(array parameter)', () => {
    expect(sql(col('s').isin(['a', "b'c"]))).toEqual({ sql: '(t0.s = any($1::text[]))', params: [['a', "b'c"]] })
    expect(sql(col('i').isin([]))).toEqual({ sql: 'false', params: [] })
  })
  test('case-insensitive regex', () => {
    expect(sql(col('s').match('^h.*o$', 'i'))).toEqual({ sql: '(t0.s ~* $1)', params: ['^h.*o$'] })
  })
  test('JSON path: strict SQL/JSON path as a parameter, errors silenced', () => {
    expect(sql(col('j').path('items[*].name'))).toEqual({
      sql: `jsonb_path_query_array(t0.j, $1::jsonpath, '{}'::jsonb, true)`,
      params: ['strict $."items"[*]."name"'],
    })
    expect(sql(col('j').path('a[-1]'))).toEqual({
      sql: `jsonb_path_query_first(t0.j, $1::jsonpath, '{}'::jsonb, true)`,
      params: ['strict $."a"[last]'],
    })
  })
  test('substr bounds are int parameters', () => {
    expect(sql(col('s').substr(1, 3))).toEqual({ sql: 'substr(t0.s, $1::bigint::int, greatest($2::bigint::int - $1::bigint::int + 1, 0))', params: [2, 3] })
  })
  test('cast and aggregate', () => {
    expect(sql(col('i').astype('bool'))).toEqual({ sql: '(t0.i <> 0)', params: [] })
    expect(sql(col('s').astype('int'))).toEqual({ sql: '(t0.s)::bigint', params: [] })
    expect(sql(agg.sum(col('i')))).toEqual({ sql: 'sum(t0.i)::bigint', params: [] })
    expect(sql(agg.makeList(col('s')))).toEqual({ sql: `coalesce(jsonb_agg(t0.s), '[]'::jsonb)`, params: [] })
  })
  test('a hostile string stays a parameter; identifiers are quoted', () => {
    expect(sql(col('s').eq(lit("x'); drop table t; --")))).toEqual({ sql: '(t0.s = $1::text)', params: ["x'); drop table t; --"] })
    expect(quoteIdent('we"ird')).toBe('"we""ird"')
  })
})
