import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { connect, Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { runCli } from '../support/cli.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// The lifecycle as operators reach it: the admin HTTP routes, background compaction, and `tessera compact`.

test('admin routes set retention, compact (with a dry run) and collect media; bad options are 400s', async () => {
  const db = await memoryDb()
  try {
    const app = createApp(db)
    const call = async (path: string, body: unknown) => {
      const res = await app.request(`/api/v1/admin/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })
      return { status: res.status, body: (await res.json()) as Record<string, unknown> }
    }
    const t = await db.createTable('h', { id: 'int', n: 'int' })
    await t.insert([{ id: 1, n: 0 }, { id: 2, n: 0 }])
    await t.update({ n: 1 })
    await t.update({ n: 2 })
    expect(await call('retention', { path: 'h', policy: { keepVersions: 1 } })).toEqual({ status: 200, body: { keepVersions: 1, source: 'table' } })
    const dry = await call('compact', { dryRun: true })
    expect(dry.status).toBe(200)
    expect(dry.body.rowVersionsRemoved).toBe(4)
    const r = await call('compact', { graceSeconds: 0 })
    expect(r.body.rowVersionsRemoved).toBe(4)
    expect((await call('gc', { dryRun: true })).body).toMatchObject({ orphans: 0, missing: [] })
    const bad = await call('compact', { keepVersions: 0 })
    expect(bad.status).toBe(400)
    expect((await call('retention', { policy: { keepFor: 'later' } })).status).toBe(400)
    expect((await call('gc', { graceSeconds: -1 })).status).toBe(400)
    expect((await call('compact', { tables: ['missing'] })).status).toBe(404)
  } finally {
    await db.close()
  }
})

test('the HTTP client has the same setRetention, compact and gc', async () => {
  const db = await memoryDb()
  const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: createApp(db).fetch })
  try {
    const client = connect(`http://127.0.0.1:${server.port}`)
    const t = await client.createTable('r', { id: 'int', n: 'int' })
    await t.insert([{ id: 1, n: 0 }])
    await t.update({ n: 1 })
    expect(await client.setRetention({ keepVersions: 1 }, 'r')).toEqual({ keepVersions: 1, source: 'table' })
    expect((await client.compact({ dryRun: true })).rowVersionsRemoved).toBe(1)
    expect((await client.compact()).rowVersionsRemoved).toBe(1)
    expect((await client.gc({ dryRun: true })).orphans).toBe(0)
    expect((await client.check()).media.missing).toEqual([])
    await expect(await throwing(client.get('r:1'))).toThrow("version 1 of table 'r' was removed by compaction")
  } finally {
    server.stop(true)
    await db.close()
  }
})

test('background compaction applies the retention policy on its interval and stops with close()', async () => {
  const db = await memoryDb()
  const lines: string[] = []
  try {
    const t = await db.createTable('bg', { id: 'int', n: 'int' })
    await t.insert([{ id: 1, n: 0 }])
    for (let i = 1; i <= 3; i++) await t.update({ n: i })
    await db.setRetention({ keepVersions: 1 })
    db.startCompaction(1, (l) => lines.push(l))
    expect(() => db.startCompaction(1)).toThrow('already running')
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
    expect(lines[0]).toContain('compaction: removed 3 row versions in 1 of 1 tables')
    expect((await db.getTable('bg:3').catch((e) => e)).code).toBe('VERSION_NOT_FOUND')
  } finally {
    await db.close()
  }
})

test('tessera compact: --dry-run, --save stores the policy, then compacts and reports sizes', async () => {
  const home = join(tempDir(), 'data')
  const db = await Tessera.open({ home })
  try {
    const t = await db.createTable('docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
    await t.insert(Array.from({ length: 2000 }, (_, i) => ({ id: i, text: `row ${i} `.repeat(20) })))
    for (let i = 0; i < 3; i++) await t.update({ text: `round ${i}` }, { where: t.c.id.lt(1000) })
  } finally {
    await db.close()
  }
  const dry = await runCli('compact', '--home', home, '--keep-versions', '1', '--dry-run')
  expect(dry.code).toBe(0)
  expect(dry.stdout).toContain('docs: versions 4..4 kept, 3000 row versions to remove')
  expect(dry.stdout).toContain('would remove 3000 row versions in 1 of 1 tables')
  const real = await runCli('compact', '--home', home, '--keep-versions', '1', '--save')
  expect(real.code).toBe(0)
  expect(real.stdout).toContain('retention saved for the database')
  expect(real.stdout).toMatch(/docs: versions 4\.\.4 kept, 3000 row versions removed, [\d.]+ → [\d.]+ MB \(full vacuum\)/)
  expect(real.stdout).toMatch(/data dir [\d.]+ MB → [\d.]+ MB/)
  const db2 = await Tessera.open({ home })
  try {
    expect(await db2.getRetention('docs')).toEqual({ keepVersions: 1, source: 'database' })
    expect(await (await db2.getTable('docs')).count()).toBe(2000)
    expect((await db2.check()).problems).toEqual([])
  } finally {
    await db2.close()
  }
  const bad = await runCli('compact', '--home', home, '--keep-versions', 'x')
  expect(bad.code).toBe(2)
  expect(bad.stderr).toContain("--keep-versions must be an integer >= 1 (1 keeps only the current version), got 'x'")
})
