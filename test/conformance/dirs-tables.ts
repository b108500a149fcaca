// Shared scenarios, run on every store by test/store/<store>.test.ts (moved here from test/catalog/dirs-tables.test.ts).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { Tessera } from '../../src/index.ts'
import type { MakeDb } from './make-db.ts'

export function dirsTablesSuite(makeDb: MakeDb): void {
  let db: Tessera
  beforeAll(async () => { db = await makeDb() })
  afterAll(async () => { await db.close() })

  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e) => e.code)

  describe('dirs', () => {
    test('create, list, nested, ifExists modes', async () => {
      expect((await db.createDir('app')).created).toBe(true)
      expect(await codeOf(db.createDir('app'))).toBe('DIR_ALREADY_EXISTS')
      expect((await db.createDir('app', { ifExists: 'ignore' })).created).toBe(false)
      await db.createDir('app/sub')
      expect(await codeOf(db.createDir('nope/sub'))).toBe('DIR_NOT_FOUND')
      await db.createDir('deep/a/b', { parents: true })
      expect(await db.listDirs()).toEqual(['app', 'deep'])
      expect(await db.listDirs('', { recursive: true })).toEqual(['app', 'app/sub', 'deep', 'deep/a', 'deep/a/b'])
      expect(await db.listDirs('app')).toEqual(['app/sub'])
      expect(await codeOf(db.createDir('bad name'))).toBe('INVALID_NAME')
      expect(await codeOf(db.listDirs('missing'))).toBe('DIR_NOT_FOUND')
    })

    test('drop needs force when not empty; replace modes', async () => {
      await db.createDir('d1')
      await db.createTable('d1/t', { x: 'int' })
      expect(await codeOf(db.dropDir('d1'))).toBe('DIR_NOT_EMPTY')
      expect(await codeOf(db.createDir('d1', { ifExists: 'replace' }))).toBe('DIR_NOT_EMPTY')
      await db.createDir('d1', { ifExists: 'replace_force' })
      expect(await db.listTables('d1')).toEqual([])
      await db.createTable('d1/t2', { x: 'int' })
      await db.dropDir('d1', { force: true })
      expect(await codeOf(db.getTable('d1/t2'))).toBe('TABLE_NOT_FOUND')
      expect(await codeOf(db.dropDir('d1'))).toBe('DIR_NOT_FOUND')
      await db.dropDir('d1', { ifNotExists: 'ignore' })
    })

    test('move a dir with its tables, and a table', async () => {
      await db.createDir('m1')
      await db.createDir('m1/inner')
      const t = await db.createTable('m1/inner/t', { x: 'int' })
      await t.insert([{ x: 1 }])
      await db.move('m1', 'm2')
      expect(await db.listDirs('m2')).toEqual(['m2/inner'])
      expect(t.path).toBe('m2/inner/t')
      expect((await (await db.getTable('m2/inner/t')).collect()).rows).toEqual([{ x: 1 }])
      await db.move('m2/inner/t', 'm2/t_renamed')
      expect(await db.listTables('m2')).toEqual(['m2/t_renamed'])
      expect(await codeOf(db.move('m2', 'm2/inner/x'))).toBe('INVALID_ARGUMENT')
      await db.createDir('m3')
      expect(await codeOf(db.move('m3', 'm2'))).toBe('PATH_ALREADY_EXISTS')
      // Nothing at the path: NOT_FOUND naming it (it was DIR_NOT_FOUND, for a table too).
      const none = await db.move('m2/no_such_table', 'm2/other').then(() => undefined, (e: { code: string; message: string }) => e)
      expect(none).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining("nothing to move at 'm2/no_such_table'") })
    })
  })

  describe('tables', () => {
    test('every column type round-trips', async () => {
      const t = await db.createTable('types', {
        s: 'string', i: 'int', f: 'float', b: 'bool', ts: 'timestamp', d: 'date', j: 'json', u: 'uuid', bin: 'binary',
        arr: 'array<float32>[2,2]', ints: 'array<int32>', img: 'image', vid: 'video?', aud: 'audio?', doc: 'document?',
      }, { mediaValidation: 'on_read' })
      const row = {
        s: 'héllo', i: 42, f: 2.5, b: true, ts: new Date('2024-05-06T07:08:09.123Z'), d: '2024-05-06', j: { a: [1, { b: null }] },
        u: '123e4567-e89b-12d3-a456-426614174000', bin: new Uint8Array([0, 1, 255]), arr: [[1, 2], [3, 4.5]], ints: [1, -2, 3],
        img: '/tmp/x.jpg',
      }
      await t.insert([row])
      const got = (await t.collect()).rows[0]!
      expect(got).toEqual({ ...row, bin: new Uint8Array([0, 1, 255]), vid: null, aud: null, doc: null })
      expect(t.schema()).toEqual({
        s: 'string', i: 'int', f: 'float', b: 'bool', ts: 'timestamp', d: 'date', j: 'json', u: 'uuid', bin: 'binary',
        arr: 'array<float32>[2,2]', ints: 'array<int32>', img: 'image', vid: 'video?', aud: 'audio?', doc: 'document?',
      })
    })

    test('ifExists modes and errors', async () => {
      const a = await db.createTable('ie', { x: 'int' })
      await a.insert([{ x: 1 }])
      expect(await codeOf(db.createTable('ie', { x: 'int' }))).toBe('TABLE_ALREADY_EXISTS')
      const same = await db.createTable('ie', { y: 'string' }, { ifExists: 'ignore' })
      expect(same.id).toBe(a.id)
      expect(await same.count()).toBe(1)
      const replaced = await db.createTable('ie', { y: 'string' }, { ifExists: 'replace' })
      expect(replaced.schema()).toEqual({ y: 'string' })
      expect(await replaced.count()).toBe(0)
      expect(await codeOf(db.createTable('bad', { x: 'nosuchtype' }))).toBe('INVALID_TYPE')
      expect(await codeOf(db.createTable('bad', { 'bad col': 'int' }))).toBe('INVALID_NAME')
      expect(await codeOf(db.createTable('bad', { x: 'int' }, { primaryKey: 'y' }))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(db.createTable('bad', { x: 'int?' }, { primaryKey: 'x' }))).toBe('INVALID_ARGUMENT')
      expect(await codeOf(db.createTable('nodir/t', { x: 'int' }))).toBe('DIR_NOT_FOUND')
      expect(await codeOf(db.createTable('app', { x: 'int' }))).toBe('PATH_ALREADY_EXISTS')
      expect(await codeOf(db.getTable('app'))).toBe('TABLE_NOT_FOUND')
      await db.dropTable('ie')
      expect(await codeOf(db.dropTable('ie'))).toBe('TABLE_NOT_FOUND')
      await db.dropTable('ie', { ifNotExists: 'ignore' })
      expect(await codeOf(a.insert([{ x: 2 }]))).toBe('TABLE_NOT_FOUND')
    })

    test('list tables in dirs', async () => {
      await db.createDir('lt')
      await db.createTable('lt/a', { x: 'int' })
      await db.createTable('lt/b', { x: 'int' })
      expect(await db.listTables('lt')).toEqual(['lt/a', 'lt/b'])
      expect((await db.listTables('', { recursive: true })).filter((p) => p.startsWith('lt/'))).toEqual(['lt/a', 'lt/b'])
    })
  })
}
