import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'
import type { Table } from '../../src/index.ts'
import { embedders, Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { dropCreatedDatabases, pgSkipReason, serverDb } from './pg-support.ts'

// Vector features over the server driver: PGlite with pgvector behind the PostgreSQL wire protocol
// (@electric-sql/pglite-socket on 127.0.0.1) stands in for a server with pgvector installed. A server without
// pgvector (Debian's postgresql-15 has none by default) must refuse embedding indexes saying what to install.

const TOPICS = ['piano concerto orchestra', 'football match goal', 'volcano eruption lava', 'chocolate cake recipe', 'rocket launch orbit']

describe('pgvector over the postgres driver (pglite-socket)', () => {
  let pg: PGlite
  let server: PGLiteSocketServer
  let db: Tessera
  let docs: Table
  beforeAll(async () => {
    pg = await PGlite.create({ extensions: { vector } })
    const port = 20000 + Math.floor(Math.random() * 20000)
    server = new PGLiteSocketServer({ db: pg, port, host: '127.0.0.1', maxConnections: 100 })
    await server.start()
    db = await Tessera.open({ database: `postgres://postgres@127.0.0.1:${port}/postgres` })
    docs = await db.createTable('docs', { id: 'int', text: 'string', cat: 'int' }, { primaryKey: 'id' })
    await docs.insert(Array.from({ length: 100 }, (_, i) => ({ id: i, text: `${TOPICS[i % 5]} note ${i}`, cat: i % 10 })))
    await docs.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 64 }), metric: 'cosine', name: 'lex' })
  }, 60_000)
  afterAll(async () => {
    await db?.close()
    await server?.stop()
    await pg?.close()
  })

  test('capability detected; similarity search ranks the matching topic first', async () => {
    expect(db.driver.kind).toBe('postgres')
    expect(db.driver.capabilities.vector).toBe(true)
    const sim = docs.c.text.similarity('volcano lava')
    const rows = (await docs.where(docs.c.cat.ge(0)).orderBy(sim, 'desc').limit(5).select({ text: docs.c.text, score: sim }).collect()).rows
    expect(rows).toHaveLength(5)
    for (const r of rows) expect(r.text).toContain('volcano')
    const scores = rows.map((r) => r.score as number)
    expect([...scores].sort((a, b) => b - a)).toEqual(scores)
    expect(scores[0]).toBeGreaterThan(0.3)
  })

  test('new rows are embedded on insert and found', async () => {
    await docs.insert({ id: 1000, text: 'zeppelin airship zeppelin', cat: 1 })
    const sim = docs.c.text.similarity('zeppelin airship')
    const top = (await docs.orderBy(sim, 'desc').limit(1).select({ id: docs.c.id }).collect()).rows
    expect(top).toEqual([{ id: 1000 }])
  })

  test('hybrid search uses the full-text index on the server driver too', async () => {
    expect(docs.listIndexes()[0]!.fullText).toBe('english')
    const rows = (await docs.hybridSearch('volcano eruption', { column: 'text', k: 3, where: docs.c.cat.lt(5) })).rows
    expect(rows).toHaveLength(3)
    for (const r of rows) expect(r).toMatchObject({ text: expect.stringContaining('volcano'), textRank: expect.any(Number) })
  })

  test('the backup route says to use pg_dump on a server store (no dump of its own)', async () => {
    const res = await createApp(db).request('/api/v1/admin/backup', { method: 'POST' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).error.message).toContain('pg_dump')
  })
})

const skip = pgSkipReason()
describe.skipIf(!!skip)('a server without pgvector', () => {
  afterAll(() => dropCreatedDatabases(), 30_000)
  test('capabilities.vector is false and addEmbeddingIndex says what to install', async () => {
    const db = await serverDb()
    try {
      if (db.driver.capabilities.vector) return console.warn('the test server has pgvector: the missing-extension error is not exercised here')
      const t = await db.createTable('t', { text: 'string' })
      const e = await t.addEmbeddingIndex('text', { embed: embedders.lexical({ dims: 8 }) }).then(() => undefined, (x) => x)
      expect(e.code).toBe('UNAVAILABLE')
      expect(e.message).toContain('apt install postgresql-15-pgvector')
      expect(e.message).toContain('CREATE EXTENSION vector')
      expect(t.md.columns.map((c) => c.name)).toEqual(['text'])
    } finally {
      await db.close()
    }
  })
})
