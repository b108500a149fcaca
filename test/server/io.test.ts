import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb, tempDir } from '../support/db.ts'

let db: Tessera
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
})
afterAll(async () => { await db.close() })

test('HTTP import streams an upload into a new table; a bad file changes nothing; export streams it back', async () => {
  const csv = 'id,name,score\n1,ann,1.5\n2,bob,\n3,cy,2\n'
  let r = await app.request('/api/v1/tables/people/-/import?format=csv&primaryKey=id', { method: 'POST', body: csv })
  expect(r.status).toBe(201)
  const result = (await r.json()) as any
  expect(result.rowsInserted).toBe(3)
  expect(result.schema).toEqual({ id: 'int', name: 'string', score: 'float?' })
  const t = await db.getTable('people')
  const version = t.version
  r = await app.request('/api/v1/tables/people/-/import?format=csv', { method: 'POST', body: 'id,name,score\n4,dee,1\n5,eve,notanumber\n' })
  expect(r.status).toBe(400)
  const e = (await r.json()) as any
  expect(e.error.message).toContain('score')
  expect(t.version).toBe(version)
  expect(await t.count()).toBe(3)

  r = await app.request('/api/v1/export?format=csv', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'people', where: { fn: 'gt', args: [{ col: 'id' }, { lit: 1 }] } }) })
  expect(r.headers.get('content-type')).toContain('text/csv')
  expect(await r.text()).toBe('id,name,score\n2,bob,\n3,cy,2\n')
  r = await app.request('/api/v1/export?format=jsonl', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ table: 'people', select: [{ name: 'n', expr: { fn: 'upper', args: [{ col: 'name' }] } }] }) })
  expect((await r.text()).trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ n: 'ANN' }, { n: 'BOB' }, { n: 'CY' }])
})

test('tessera import and export CLI', async () => {
  const dir = tempDir()
  const csv = join(dir, 'items.csv')
  writeFileSync(csv, 'sku,qty\na,1\nb,2\n')
  mkdirSync(join(dir, 'out'))
  const bin = join(import.meta.dir, '../../bin/tessera.ts')
  const run = async (...args: string[]) => {
    const p = Bun.spawn([process.execPath, bin, ...args, '--home', join(dir, 'data')], { stdout: 'pipe', stderr: 'pipe' })
    const [out, errText, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
    return { out, err: errText, code }
  }
  const imp = await run('import', csv, 'items')
  expect(imp.code).toBe(0)
  expect(JSON.parse(imp.out)).toEqual({ table: 'items', rowsInserted: 2, rowsSkipped: 0, created: true })
  expect(imp.err).toContain('2 rows imported')
  const exp = await run('export', 'items', join(dir, 'out/items.jsonl'), '--query', '{"orderBy":[{"expr":{"col":"qty"},"desc":true}]}')
  expect(exp.code).toBe(0)
  expect(readFileSync(join(dir, 'out/items.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([{ sku: 'b', qty: 2 }, { sku: 'a', qty: 1 }])
}, 120000)
