import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { udf } from '../../src/compute/udf.ts'
import { applySetup, defineSetup, resolveEnvPath } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { memoryDb, tempDir } from '../support/db.ts'

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

const setupV1 = defineSetup(async (s) => {
  await s.createDir('app')
  const docs = await s.createTable('app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await docs.addComputedColumn('upper', docs.c.text.upper())
  await s.createView('app/short', docs, { where: docs.c.id.lt(10) })
})
const setupV2 = defineSetup(async (s) => {
  await setupV1(s)
  const docs = await s.getTable('app/docs')
  await docs.addColumn('note', 'string?')
  await docs.addComputedColumn('len', docs.c.text.len())
})

describe('setup files', () => {
  test('plan changes nothing; apply creates; a second apply changes nothing and says so', async () => {
    const target = db as unknown as SetupTarget
    const plan = await applySetup(setupV1, target, { plan: true })
    expect(plan.changes).toEqual([
      'create dir app',
      'create table app/docs (id int, text string)',
      'add computed column app/docs.upper = upper(text)',
      'create view app/short over app/docs where (id < 10)',
    ])
    expect(await db.listDirs()).toEqual([])
    const first = await applySetup(setupV1, target)
    expect(first.changes).toEqual(plan.changes)
    expect(await db.listTables('app')).toEqual(['app/docs', 'app/short'])
    const second = await applySetup(setupV1, target)
    expect(second).toEqual({ changes: [], changed: false })

    const docs = await db.getTable('app/docs')
    await docs.insert([{ id: 1, text: 'a' }, { id: 2, text: 'bb' }, { id: 20, text: 'ccc' }])
    const plan2 = await applySetup(setupV2, target, { plan: true })
    expect(plan2.changes).toEqual(['add column app/docs.note string?', 'add computed column app/docs.len = len(text) (backfill of 3 rows)'])
    expect(docs.schema().len).toBeUndefined()
    await applySetup(setupV2, target)
    expect((await docs.select('id', 'len').collect()).rows).toEqual([{ id: 1, len: 1 }, { id: 2, len: 2 }, { id: 20, len: 3 }])
    expect((await applySetup(setupV2, target)).changed).toBe(false)
    expect(await (await db.getTable('app/short')).count()).toBe(2)
  })

  test("ifExists 'replace' rebuilds only what changed: computed columns and embedding indexes (also in the background)", async () => {
    const target = db as unknown as SetupTarget
    const setup = (dims: number, expr: 'upper' | 'lower', background = false) => defineSetup(async (s) => {
      await s.createDir('idx_app')
      const docs = await s.createTable('idx_app/docs', { id: 'int', text: 'string' })
      await docs.addComputedColumn('shout', expr === 'upper' ? docs.c.text.upper() : docs.c.text.lower(), { ifExists: 'replace' })
      await docs.addEmbeddingIndex('text', { embed: embedders.lexical({ dims }), name: 'lex', ifExists: 'replace', background })
    })
    await applySetup(setup(32, 'upper'), target)
    const docs = await db.getTable('idx_app/docs')
    await docs.insert([{ id: 1, text: 'Lava' }, { id: 2, text: 'Bonds' }, { id: 3, text: 'Cake' }])
    expect(await applySetup(setup(32, 'upper'), target)).toEqual({ changes: [], changed: false })

    const plan = await applySetup(setup(48, 'lower'), target, { plan: true })
    expect(plan.changes).toEqual([
      'replace computed column idx_app/docs.shout = lower(text) (backfill of 3 rows)',
      expect.stringMatching(/^replace embedding index on idx_app\/docs\.text \(lex\): lexical_embed\(\{"dims":32,.*\}\) → lexical_embed\(\{"dims":48,.*\}\), re-embed 3 rows$/),
    ])
    await applySetup(setup(48, 'lower'), target)
    expect(docs.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', dims: 48 })])
    expect((await docs.where(docs.c.id.eq(1)).select('shout').collect()).rows).toEqual([{ shout: 'lava' }])
    expect((await applySetup(setup(48, 'lower'), target)).changed).toBe(false)

    const bg = await applySetup(setup(16, 'lower', true), target)
    expect(bg.changes).toEqual([expect.stringMatching(/re-embed 3 rows in the background \(job \d+\)$/)])
    const job = (await db.jobs.list()).filter((j) => j.kind === 'add_embedding_index').at(-1)!
    expect((await db.jobs.wait(job.id)).status).toBe('done')
    expect(docs.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', dims: 16 })])
    expect((await applySetup(setup(16, 'lower', true), target)).changed).toBe(false)

    // While a background rebuild is under way, applying again starts no second job.
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    udf({ name: 'test_setup_gated_embed', returns: 'array<float32>[8]', batchSize: 10, fn: async (texts: string[]) => (texts.length > 1 && (await gate), texts.map(() => [1, 0, 0, 0, 0, 0, 0, 0])) })
    const gated = defineSetup(async (s) => {
      const d = await s.getTable('idx_app/docs')
      await d.addEmbeddingIndex('text', { embed: { fn: 'test_setup_gated_embed', opts: { dims: 8 }, modality: 'text' }, name: 'lex', ifExists: 'replace', background: true })
    })
    expect((await applySetup(gated, target)).changed).toBe(true)
    const jobsBefore = (await db.jobs.list()).length
    expect(await applySetup(gated, target)).toEqual({ changes: [], changed: false })
    expect((await db.jobs.list()).length).toBe(jobsBefore)
    open()
    expect((await db.jobs.wait((await db.jobs.list()).at(-1)!.id)).status).toBe('done')
    expect(docs.listIndexes()).toEqual([expect.objectContaining({ name: 'lex', dims: 8 })])
  })

  test('environment namespaces resolve in one place', async () => {
    expect(resolveEnvPath('app/docs', 'prod')).toBe('prod_app/docs')
    expect(resolveEnvPath('prod_app/docs', 'prod')).toBe('prod_app/docs')
    expect(resolveEnvPath('app/docs', undefined)).toBe('app/docs')
    const r = await applySetup(setupV1, db as unknown as SetupTarget, { env: 'staging' })
    expect(r.changes[0]).toBe('create dir staging_app')
    expect(await db.listTables('staging_app')).toEqual(['staging_app/docs', 'staging_app/short'])
  })

  test('tessera apply CLI: --plan, apply, apply again', async () => {
    const dir = tempDir()
    const file = join(dir, 'setup.ts')
    writeFileSync(file, `import { defineSetup } from ${JSON.stringify(join(import.meta.dir, '../../src/setup/index.ts'))}
export default defineSetup(async (db) => {
  await db.createDir('app')
  const t = await db.createTable('app/t', { id: 'int', name: 'string' })
  await t.addComputedColumn('shout', t.c.name.upper())
})
`)
    const bin = join(import.meta.dir, '../../bin/tessera.ts')
    const run = async (...args: string[]) => {
      const p = Bun.spawn([process.execPath, bin, 'apply', file, '--home', join(dir, 'data'), ...args], { stdout: 'pipe', stderr: 'pipe' })
      const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited])
      return { out, code }
    }
    // --plan reads a data dir that exists (it creates none).
    const init = Bun.spawn([process.execPath, bin, 'init', '--home', join(dir, 'data')], { stdout: 'ignore', stderr: 'ignore' })
    expect(await init.exited).toBe(0)
    const plan = await run('--plan')
    expect(plan.out).toContain('would create table app/t (id int, name string)')
    expect(plan.out).toContain('plan: changes above would be made')
    expect((await run()).out).toContain('applied')
    const again = await run()
    expect(again.code).toBe(0)
    expect(again.out).toContain('nothing to change')
  }, 120000)
})
