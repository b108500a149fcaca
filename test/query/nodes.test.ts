import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { col, lit } from '../../src/index.ts'
import { colNode, ExprNodeSchema, fnNode, isExprNode, litNode, mapNodes, someNode } from '../../src/query/nodes/index.ts'
import type { ExprNode } from '../../src/query/nodes/index.ts'
import { isCol, isLit } from '../../src/query/nodes/index.ts'

// Expression nodes as one module: one check, frozen factories, one walker.

describe('isExprNode: the one check', () => {
  const nodes: unknown[] = [
    { col: 'a' }, { col: 'a', tbl: 'x' }, { col: 'a', prop: 'errortype' }, { lit: 1 }, { lit: null }, { lit: '2024', type: 'timestamp' },
    { fn: 'add', args: [{ col: 'a' }, { lit: 1 }] }, { fn: 'now', args: [] }, { fn: 'isin', args: [{ col: 'a' }], opts: { values: [1] } },
  ]
  const values: unknown[] = [
    null, 1, 'a', [1], new Date(), {}, { col: '' }, { col: 1 }, { col: 'a', extra: 1 }, { col: 'a', prop: 'other' },
    { lit: 1, type: 5 }, { fn: 'f' }, { fn: '', args: [] }, { fn: 'f', args: [1] }, { fn: 'f', args: [], opts: [] },
    { fn: 'f', args: [], extra: true }, { name: 'x', col: { col: 'a' } },
  ]
  test('accepts node shapes, recursively', () => {
    for (const n of nodes) expect([n, isExprNode(n)]).toEqual([n, true])
  })
  test('anything else is a JSON value', () => {
    for (const x of values) expect([x, isExprNode(x)]).toEqual([x, false])
  })
  test('whatever it accepts, the HTTP schema accepts too', () => {
    for (const n of [...nodes, ...values]) if (isExprNode(n)) expect(v.is(ExprNodeSchema, n)).toBe(true)
  })
  test('the builder and select() use it: an object named like a node key is an output name', () => {
    expect(isExprNode(col('a').node)).toBe(true)
    expect(lit({ col: 'a' }).node).toEqual({ lit: { col: 'a' } })
  })
})

describe('factories and walker', () => {
  test('factories freeze nodes and their argument lists', () => {
    const f = fnNode('add', [colNode('a'), litNode(1)], { x: 1 })
    expect(Object.isFrozen(f)).toBe(true)
    expect(Object.isFrozen(f.args)).toBe(true)
    expect(Object.isFrozen(f.opts)).toBe(true)
    expect(Object.isFrozen(col('a').add(1).gt(2).node)).toBe(true)
  })
  test('mapNodes keeps untouched subtrees (and literal identity), rebuilds frozen nodes where it changes something', () => {
    const one = litNode(1)
    const tree = fnNode('and', [fnNode('gt', [colNode('a'), one]), fnNode('lt', [colNode('b'), litNode(5)])])
    expect(mapNodes(tree, (n) => n)).toBe(tree)
    const renamed = mapNodes(tree, (n) => (isCol(n) && n.col === 'a' ? colNode('z') : n)) as ExprNode & { args: readonly ExprNode[] }
    expect(renamed).toEqual(fnNode('and', [fnNode('gt', [colNode('z'), one]), fnNode('lt', [colNode('b'), litNode(5)])]))
    expect((renamed.args[0] as { args: readonly ExprNode[] }).args[1]).toBe(one)
    expect(renamed.args[1]).toBe((tree as { args: readonly ExprNode[] }).args[1])
    expect(Object.isFrozen(renamed)).toBe(true)
  })
  test('someNode finds a node anywhere', () => {
    const tree = fnNode('and', [fnNode('gt', [colNode('a'), litNode(1)]), colNode('b')])
    expect(someNode(tree, (n) => isLit(n) && n.lit === 1)).toBe(true)
    expect(someNode(tree, (n) => isCol(n) && n.col === 'c')).toBe(false)
  })
})

describe('src/query builds nodes through the factories only', () => {
  // Hand-made node literals ({ fn: 'and', ... }) and spreads ({ ...node, args }) skip freezing; the node module
  // (src/query/nodes/) is the one place that builds them, and json-query.ts only validates JSON.
  const dir = join(import.meta.dir, '../../src/query')
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts') && f !== 'json-query.ts')
  test.each(files)('%s', (file) => {
    const text = readFileSync(join(dir, file), 'utf8').split('\n').filter((l) => !l.trim().startsWith('//') && !l.trim().startsWith('*'))
    const offending = text.filter((l) => /\{ (fn|col|lit): /.test(l) || /\{ \.\.\.(node|n), args/.test(l))
    expect(offending).toEqual([])
  })
})

describe('core operators without src/functions', () => {
  test('a fresh process compiles a > b having imported only the query compiler', () => {
    // Own process: in this one the built-ins are already loaded by other test files.
    const code = `
      import { compileExpr } from './src/query/compiler.ts'
      import { functions } from './src/query/registry.ts'
      import { ParamList } from './src/query/sql.ts'
      import { parseType } from './src/types/index.ts'
      const scope = { resolve: (n) => ({ sql: 't0.' + n.col, type: parseType('int'), key: n.col }) }
      const params = new ParamList()
      const sql = compileExpr({ fn: 'and', args: [{ fn: 'gt', args: [{ col: 'a' }, { col: 'b' }] }, { fn: 'eq', args: [{ col: 'a' }, { lit: 1 }] }] }, scope, params)
      console.log(JSON.stringify({ sql, params: params.values, upper: functions.has('upper') }))`
    const r = spawnSync(process.execPath, ['-e', code], { cwd: join(import.meta.dir, '../..'), encoding: 'utf8' })
    expect(r.stderr).toBe('')
    expect(JSON.parse(r.stdout)).toEqual({ sql: '((t0.a > t0.b) and (t0.a = $1::bigint))', params: [1], upper: false })
  })
})
