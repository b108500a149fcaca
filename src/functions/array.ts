import { formatType } from '../types/index.ts'
import type { ColumnType } from '../types/index.ts'
import { expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'

// Array indexing and slicing with Python semantics (0-based, end exclusive, negatives from the end), for array
// columns (Postgres arrays, 1-based) and JSON arrays.

function elementType(a: ColumnType): ColumnType {
  if (a.kind === 'json') return t('json', true)
  const d = a.dtype ?? 'float32'
  if (a.shape && a.shape.length > 1) return { kind: 'array', nullable: true, dtype: d, shape: a.shape.slice(1) }
  return t(d === 'bool' ? 'bool' : d.startsWith('float') ? 'float' : 'int', true)
}

function intOpt(node: FnNode, key: string): number | undefined {
  const v = node.opts?.[key]
  if (v === undefined || v === null) return undefined
  if (!Number.isInteger(v)) throw typeError(node, `${node.fn}() option ${key} must be an integer`)
  return v as number
}

scalar({
  name: 'at', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => {
    expectKinds(node, types, 0, ['array', 'json'])
    if (intOpt(node, 'index') === undefined) throw typeError(node, 'at() needs opts.index')
    return elementType(types[0]!)
  },
  sql: ([a], emit, node) => {
    const i = intOpt(node, 'index')!
    if (a!.type.kind === 'json') return `(${a!.sql} -> ${emit.param(i, t('int'))}::int)`
    if (a!.type.shape && a!.type.shape.length > 1) throw typeError(node, `at() on a ${a!.type.shape.length}-d array runs in TypeScript only`)
    const idx = i >= 0 ? `${i + 1}` : `(array_length(${a!.sql}, 1) + ${i + 1})`
    return `(${a!.sql})[${idx}]`
  },
  eval: ([a], node) => {
    const arr = a as unknown[]
    const i = intOpt(node, 'index')!
    return (Array.isArray(arr) ? arr.at(i) : null) ?? null
  },
})

scalar({
  name: 'slice', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => {
    expectKinds(node, types, 0, ['array', 'json', 'string'])
    const a = types[0]!
    if (a.kind === 'array') return { kind: 'array', nullable: a.nullable, dtype: a.dtype ?? 'float32' }
    return a
  },
  sql: ([a], emit, node) => {
    const start = intOpt(node, 'start') ?? 0
    const end = intOpt(node, 'end')
    if (a!.type.kind === 'string') throw typeError(node, 'use substr() for strings')
    if (a!.type.kind === 'json') {
      const s = emit.param(start, t('int'))
      const e = end === undefined ? `jsonb_array_length(${a!.sql})` : end >= 0 ? emit.param(end, t('int')) : `(jsonb_array_length(${a!.sql}) + ${emit.param(end, t('int'))})`
      const sx = start >= 0 ? s : `(jsonb_array_length(${a!.sql}) + ${s})`
      // Only arrays slice (as in TypeScript): null, objects and scalars give null instead of [] or an error.
      return `(case when jsonb_typeof(${a!.sql}) = 'array' then (select coalesce(jsonb_agg(e order by o), '[]'::jsonb) from jsonb_array_elements(${a!.sql}) with ordinality as x(e, o) where o - 1 >= ${sx} and o - 1 < ${e}) end)`
    }
    const n = `coalesce(array_length(${a!.sql}, 1), 0)`
    const lo = start >= 0 ? `${start + 1}` : `greatest(${n} + ${start + 1}, 1)`
    const hi = end === undefined ? n : end >= 0 ? `${end}` : `(${n} + ${end})`
    return `(${a!.sql})[${lo}:${hi}]`
  },
  eval: ([a], node) => {
    if (!Array.isArray(a)) return null
    return a.slice(intOpt(node, 'start') ?? 0, intOpt(node, 'end'))
  },
})

scalar({
  name: 'array_to_json', minArgs: 1, maxArgs: 1,
  returnType: (types, node) => {
    if (types[0]!.kind !== 'array') throw typeError(node, `array_to_json() needs an array, got ${formatType(types[0]!)}`)
    return t('json', types[0]!.nullable)
  },
  sql: ([a]) => `to_jsonb(${a!.sql})`,
  eval: ([a]) => a,
})
