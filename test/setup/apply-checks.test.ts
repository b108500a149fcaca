import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { embedders } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import type { SetupFn } from '../../src/setup/index.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { runCli } from '../support/cli.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// What `tessera apply` promises (README, "Deploy-time setup"): applying an unchanged setup twice changes nothing and
// says so; --plan reports what applying would do, refusing what applying would refuse; a definition that exists but
// differs from the setup is named (and fails the plan and the apply) unless the setup says ifExists: 'replace'; a
// setup file that does not compile is reported by file, line and column.

let db: Tessera
beforeAll(async () => { db = await memoryDb() })
afterAll(async () => { await db.close() })

const target = () => db as unknown as SetupTarget
const failure = async (setup: SetupFn | string, options: { plan?: boolean } = {}, on: SetupTarget = target()) => (await rejection(applySetup(setup, on, options))) as Error & { code?: string; details?: Record<string, unknown> }

describe('an index over a column of vectors', () => {
  const vectors = (metric: 'l2' | 'cosine') => defineSetup(async (s) => {
    const t = await s.createTable('vec', { id: 'int', emb: 'array<float32>[4]' })
    await t.addEmbeddingIndex('emb', { metric, name: 'vi', ifExists: 'replace' })
  })

  test("with ifExists 'replace' is kept when it is the same: nothing to change, no new version", async () => {
    expect((await applySetup(vectors('l2'), target())).changed).toBe(true)
    const t = await db.getTable('vec')
    await t.insert([{ id: 1, emb: [1, 0, 0, 0] }])
    const versions = (await t.history()).length
    expect(await applySetup(vectors('l2'), target(), { plan: true })).toEqual({ changes: [], changed: false })
    expect(await applySetup(vectors('l2'), target())).toEqual({ changes: [], changed: false })
    expect((await t.history()).length).toBe(versions)
    // Another metric is a change, and says what it is.
    expect((await applySetup(vectors('cosine'), target(), { plan: true })).changes).toEqual([
      "replace embedding index on vec.emb (vi): the column's own vectors, metric l2 → the column's own vectors, metric cosine, re-index 1 rows",
    ])
  })

  test('and over HTTP (tessera apply --url)', async () => {
    const server = await memoryDb()
    try {
      const app = createApp(server)
      const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) }) as unknown as SetupTarget
      expect((await applySetup(vectors('l2'), client)).changed).toBe(true)
      const versions = (await (await server.getTable('vec')).history()).length
      expect((await applySetup(vectors('l2'), client)).changed).toBe(false)
      expect((await applySetup(vectors('l2'), client, { plan: true })).changed).toBe(false)
      expect((await (await server.getTable('vec')).history()).length).toBe(versions)
    } finally {
      await server.close()
    }
  })
})

describe('--plan refuses what apply refuses, and apply changes nothing then', () => {
  const cases: [string, SetupFn, RegExp][] = [
    ['an unknown type', defineSetup(async (s) => {
      await s.createDir('chk')
      await s.createTable('chk/t', { id: 'int', name: 'strng' })
    }), /unknown column type 'strng'/],
    ['an unknown column in an expression', defineSetup(async (s) => {
      await s.createDir('chk')
      const t = await s.createTable('chk/t', { id: 'int', name: 'string' })
      await t.addComputedColumn('u', t.c.txt!.upper())
    }), /unknown column 'txt'.*columns id, name/],
    ['a bad column name', defineSetup(async (s) => {
      await s.createDir('chk')
      await s.createTable('chk/t', { id: 'int', 'bad name!': 'string' })
    }), /invalid column name "bad name!"/],
    ['a key that is not a column', defineSetup(async (s) => {
      await s.createDir('chk')
      await s.createTable('chk/t', { id: 'int' }, { primaryKey: 'key' })
    }), /primary key column 'key' is not in the schema/],
    ['a function over the wrong type', defineSetup(async (s) => {
      await s.createDir('chk')
      const t = await s.createTable('chk/t', { id: 'int', name: 'string' })
      await t.addComputedColumn('u', t.c.id!.upper())
    }), /upper/],
    ['a view whose where is not boolean', defineSetup(async (s) => {
      await s.createDir('chk')
      const t = await s.createTable('chk/t', { id: 'int', name: 'string' })
      await s.createView('chk/v', t, { where: t.c.name!.upper() })
    }), /where must be boolean/],
    ['an index on a column that is not there', defineSetup(async (s) => {
      await s.createDir('chk')
      const t = await s.createTable('chk/t', { id: 'int', name: 'string' })
      await t.addEmbeddingIndex('text', { embed: embedders.lexical() })
    }), /no column 'text'/],
    ['a table in a dir the setup does not create', defineSetup(async (s) => {
      await s.createTable('nodir/t', { id: 'int' })
    }), /directory 'nodir' does not exist/],
  ]
  for (const [what, setup, message] of cases) {
    test(what, async () => {
      const plan = await failure(setup, { plan: true })
      expect(plan.message).toMatch(message)
      const apply = await failure(setup)
      expect(apply.message).toBe(plan.message)
      expect(await db.listDirs()).not.toContain('chk')
      expect(await db.listDirs()).not.toContain('nodir')
    })
  }

  test('a plan finds the tables it would create (getTable) and checks expressions over the columns it would add', async () => {
    const setup = defineSetup(async (s) => {
      await s.createDir('plan_app')
      const t = await s.createTable('plan_app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
      await t.addComputedColumn('upper', t.c.text!.upper())
      const again = await s.getTable('plan_app/docs')
      await again.addColumn('note', 'string?')
      await again.addComputedColumn('both', again.c.upper!.concat(again.c.note!))
      await s.createView('plan_app/short', again, { where: again.c.both!.len().lt(10) })
    })
    expect((await applySetup(setup, target(), { plan: true })).changes).toEqual([
      'create dir plan_app',
      'create table plan_app/docs (id int, text string)',
      'add computed column plan_app/docs.upper = upper(text)',
      'add column plan_app/docs.note string?',
      'add computed column plan_app/docs.both = concat(upper, note)',
      'create view plan_app/short over plan_app/docs where (len(both) < 10)',
    ])
    expect((await applySetup(setup, target())).changed).toBe(true)
    expect(await applySetup(setup, target())).toEqual({ changes: [], changed: false })
  })

  test("a view's iterator columns are not known to a plan: they are not refused", async () => {
    const setup = defineSetup(async (s) => {
      await s.createDir('iter_app')
      const docs = await s.createTable('iter_app/docs', { id: 'string', doc: 'document' }, { primaryKey: 'id' })
      const chunks = await s.createView('iter_app/chunks', docs, { iterator: { name: 'document_splitter', input: 'doc', args: { separators: 'paragraph' } } })
      await chunks.addEmbeddingIndex('text', { embed: embedders.lexical() })
    })
    expect((await applySetup(setup, target(), { plan: true })).changes).toContain('add embedding index on iter_app/chunks.text')
    expect((await applySetup(setup, target())).changed).toBe(true)
    expect((await applySetup(setup, target())).changed).toBe(false)
  })
})

describe('a definition that differs from what exists', () => {
  const v1 = defineSetup(async (s) => {
    await s.createDir('diff')
    const t = await s.createTable('diff/t', { id: 'int', name: 'string' }, { primaryKey: 'id' })
    await t.addComputedColumn('shout', t.c.name!.upper())
    await s.createView('diff/v', t, { where: t.c.id!.lt(10) })
  })

  test('is named with what exists and what the setup says, fails the plan and the apply, and changes nothing', async () => {
    await applySetup(v1, target())
    const t = await db.getTable('diff/t')
    await t.insert([{ id: 1, name: 'a' }, { id: 20, name: 'b' }])
    const versions = (await t.history()).length
    const v2 = defineSetup(async (s) => {
      await s.createDir('diff')
      const t2 = await s.createTable('diff/t', { id: 'int', name: 'int' }, { primaryKey: 'name' })
      await t2.addComputedColumn('shout', t2.c.name!.lower())
      await t2.addColumn('extra', 'string?')
      await s.createView('diff/v', t2, { where: t2.c.id!.lt(5) })
    })
    for (const plan of [true, false]) {
      const e = await failure(v2, { plan })
      expect(e.message).toContain('differs from what exists in 4 ways it does not change; nothing was changed')
      expect(e.details?.differences).toEqual([
        "table diff/t: column name is string, the setup says int; to apply it, pass ifExists: 'replace' to createTable('diff/t') (drops and recreates the table, losing its rows), or change the setup to match",
        "table diff/t: its primary key is id, the setup says name; to apply it, pass ifExists: 'replace' to createTable('diff/t') (drops and recreates the table, losing its rows), or change the setup to match",
        "column diff/t.shout is computed as upper(name), the setup says lower(name); to apply it, pass ifExists: 'replace' to addComputedColumn('shout') (recomputes every row)",
        "view diff/v: its where is (id < 10), the setup says (id < 5); to apply it, pass ifExists: 'replace' to createView('diff/v') (recreates the view from its base)",
      ])
      expect(e.details?.changes).toEqual(['add column diff/t.extra string?'])
    }
    expect(t.schema().extra).toBeUndefined()
    expect((await t.history()).length).toBe(versions)
  })

  test("a column the setup's createTable lists is a difference unless a later addColumn adds it", async () => {
    const listed = defineSetup(async (s) => {
      await v1(s)
      await s.createTable('diff/t', { id: 'int', name: 'string', note: 'string?' }, { primaryKey: 'id' })
    })
    expect((await failure(listed, { plan: true })).details?.differences).toEqual([
      "table diff/t has no column note (string?), which the setup's createTable lists; add it with addColumn('note', 'string?')",
    ])
    const added = defineSetup(async (s) => {
      await v1(s)
      const t = await s.createTable('diff/t', { id: 'int', name: 'string', note: 'string?' }, { primaryKey: 'id' })
      await t.addColumn('note', 'string?')
    })
    expect((await applySetup(added, target(), { plan: true })).changes).toEqual(['add column diff/t.note string?'])
  })

  test("is applied with ifExists: 'replace' (a view again from its base, a computed column recomputed)", async () => {
    const v3 = defineSetup(async (s) => {
      await s.createDir('diff')
      const t = await s.createTable('diff/t', { id: 'int', name: 'string' }, { primaryKey: 'id' })
      await t.addComputedColumn('shout', t.c.name!.lower(), { ifExists: 'replace' })
      await s.createView('diff/v', t, { where: t.c.id!.gt(10) })
    })
    expect((await failure(v3, { plan: true })).details?.differences).toEqual([expect.stringMatching(/^view diff\/v: its where is \(id < 10\), the setup says \(id > 10\)/)])
    const v3r = defineSetup(async (s) => {
      await s.createDir('diff')
      const t = await s.createTable('diff/t', { id: 'int', name: 'string' }, { primaryKey: 'id' })
      await t.addComputedColumn('shout', t.c.name!.lower(), { ifExists: 'replace' })
      await s.createView('diff/v', t, { where: t.c.id!.gt(10), ifExists: 'replace' })
    })
    expect((await applySetup(v3r, target(), { plan: true })).changes).toEqual([
      'replace computed column diff/t.shout = lower(name) (backfill of 2 rows)',
      'replace view diff/v over diff/t where (id > 10): its where is (id < 10), the setup says (id > 10)',
    ])
    await applySetup(v3r, target())
    expect((await (await db.getTable('diff/v')).select('id', 'shout').collect()).rows).toEqual([{ id: 20, shout: 'b' }])
    expect(await applySetup(v3r, target())).toEqual({ changes: [], changed: false })
  })

  test("a table's key or column types are applied with ifExists: 'replace' on createTable (its rows dropped)", async () => {
    const setup = (key: string, ifExists?: 'replace') => defineSetup(async (s) => {
      await s.createDir('rekey')
      await s.createTable('rekey/t', { id: 'int', name: 'string' }, { primaryKey: key, ...(ifExists ? { ifExists } : {}) })
    })
    await applySetup(setup('id'), target())
    await (await db.getTable('rekey/t')).insert([{ id: 1, name: 'a' }])
    expect((await failure(setup('name'))).details?.differences).toEqual([expect.stringContaining('its primary key is id, the setup says name')])
    expect((await applySetup(setup('name', 'replace'), target())).changes).toEqual([
      'replace table rekey/t (id int, name string) key name, dropping its 1 rows: its primary key is id, the setup says name',
    ])
    expect((await db.getTable('rekey/t')).primaryKey).toEqual(['name'])
    expect(await applySetup(setup('name', 'replace'), target())).toEqual({ changes: [], changed: false })
  })

  test('an index built differently without replace is a difference', async () => {
    const setup = (dims: number) => defineSetup(async (s) => {
      await s.createDir('idx_diff')
      const t = await s.createTable('idx_diff/t', { id: 'int', text: 'string' })
      await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims }), name: 'lex' })
    })
    await applySetup(setup(32), target())
    expect((await failure(setup(48), { plan: true })).details?.differences).toEqual([
      expect.stringMatching(/^embedding index on idx_diff\/t\.text \(lex\): the index lex is built with lexical_embed\(\{"dims":32,.*\}\), the setup says lexical_embed\(\{"dims":48,.*\}\); to apply it, pass ifExists: 'replace'/),
    ])
  })
})

describe('tessera apply (CLI)', () => {
  test('a differing definition: exit 1, each difference named on stderr, never "nothing to change"', async () => {
    const dir = tempDir()
    const home = join(dir, 'data')
    const file = join(dir, 'setup.ts')
    const write = (where: string) => writeFileSync(file, `export default async function setup(db) {
  const t = await db.createTable('t', { id: 'int' })
  await db.createView('v', t, { where: t.c.id.${where} })
}
`)
    expect((await runCli('init', '--home', home)).code).toBe(0)
    write('lt(10)')
    expect((await runCli('apply', file, '--home', home)).code).toBe(0)
    write('gt(10)')
    for (const flags of [['--plan'], []]) {
      const r = await runCli('apply', file, '--home', home, ...flags)
      expect(r.code).toBe(1)
      expect(r.stdout).not.toContain('nothing to change')
      expect(r.stderr).toContain("view v: its where is (id < 10), the setup says (id > 10); to apply it, pass ifExists: 'replace'")
    }
  }, 120_000)

  test('a setup file that does not compile: its errors with file:line:column', async () => {
    const dir = tempDir()
    const file = join(dir, 'bad1.ts')
    writeFileSync(file, `export default async function setup(db) {
  await db.createDir('app')
  const t = await db.createTable('bad', { id: 'int' name: 'string' )
}
`)
    const e = await failure(file, { plan: true })
    expect(e.message).toContain(`${file} does not compile (`)
    expect(e.message).toContain(`${file}:3:53: Expected "}" but found "name"`)
    expect(e.message).toContain(`const t = await db.createTable('bad', { id: 'int' name: 'string' )`)
    const home = join(dir, 'data')
    expect((await runCli('init', '--home', home)).code).toBe(0)
    const r = await runCli('apply', file, '--home', home)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${file}:3:53: Expected "}" but found "name"`)
  }, 120_000)

  test('an error from a call of the setup names its line', async () => {
    const dir = tempDir()
    const file = join(dir, 'setup.ts')
    writeFileSync(file, `export default async function setup(db) {
  await db.createDir('lines')
  await db.createTable('lines/t', { id: 'int', name: 'strng' })
}
`)
    const e = await failure(file, { plan: true })
    expect(e.message).toMatch(new RegExp(`unknown column type 'strng'.*\\(at ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:3:\\d+\\)$`))
    expect(e.code).toBe('INVALID_TYPE')
  })
})
