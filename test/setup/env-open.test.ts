import { afterEach, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { applySetup, defineSetup } from '../../src/setup/index.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// TESSERA_ENV names one namespace for setup files (tessera apply), the library (Tessera.open) and so the server
// (tessera serve opens the data dir with Tessera.open): 'app/docs' is 'prod_app/docs' in all of them.

const saved = process.env.TESSERA_ENV
afterEach(() => {
  if (saved === undefined) delete process.env.TESSERA_ENV
  else process.env.TESSERA_ENV = saved
})

const setup = defineSetup(async (db) => {
  await db.createDir('app')
  await db.createTable('app/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
})

test('Tessera.open resolves paths in TESSERA_ENV as tessera apply does; env: "" turns it off', async () => {
  const home = tempDir()
  process.env.TESSERA_ENV = 'prod'
  let db = await Tessera.open({ home, restoreFrom: await templateBlob() })
  try {
    expect(db.env).toBe('prod')
    await applySetup(setup, db as never, { env: 'prod' })
    const docs = await db.getTable('app/docs')
    expect(docs.path).toBe('prod_app/docs')
    await docs.insert([{ id: 1, text: 'hello' }])
    // the qualified name works too, and names outside the namespace are not reached
    expect(await (await db.getTable('prod_app/docs')).count()).toBe(1)
    expect(await db.listTables('app')).toEqual(['prod_app/docs'])
    const v = await db.createView('app/short', docs, { where: docs.c.id.lt(10) })
    expect(v.path).toBe('prod_app/short')
    expect((await db.get('app/docs:1')).pinnedVersion).toBe(1)
    await db.createDir('staging_app', { ifExists: 'ignore' })
    expect(await db.listDirs()).toContain('prod_staging_app')
  } finally {
    await db.close()
  }
  // without the variable (or with env: ''), paths are what they say
  delete process.env.TESSERA_ENV
  db = await Tessera.open({ home })
  try {
    expect(db.env).toBeUndefined()
    await expect(await rejection(db.getTable('app/docs'))).toMatchObject({ code: 'TABLE_NOT_FOUND' })
    expect((await db.getTable('prod_app/docs')).path).toBe('prod_app/docs')
  } finally {
    await db.close()
  }
  process.env.TESSERA_ENV = 'prod'
  db = await Tessera.open({ home, env: '' })
  try {
    expect(db.env).toBeUndefined()
    expect((await db.getTable('prod_app/docs')).path).toBe('prod_app/docs')
  } finally {
    await db.close()
  }
}, 60_000)
