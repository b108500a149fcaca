import { expect, test } from 'bun:test'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'
import './fixtures/slow-udf.ts'

// A real crash: a child process runs a job and is killed with SIGKILL mid-way. The kernel frees its data dir lock;
// reopening finds the job interrupted with the progress of its last committed batch, and resume finishes it.

test('a job killed mid-way resumes after reopen, without losing or redoing committed batches', async () => {
  const home = tempDir('tessera-crash-')
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'fixtures/crash-child.ts'), home], { stdout: 'pipe', stderr: 'inherit' })
  let last = { id: 0, rowsDone: 0 }
  const reader = child.stdout.getReader()
  let buf = ''
  while (last.rowsDone < 300) {
    const { value, done } = await reader.read()
    if (done) throw new Error('child exited early')
    buf += new TextDecoder().decode(value)
    const lines = buf.split('\n')
    buf = lines.pop()!
    for (const l of lines) if (l.trim()) last = JSON.parse(l)
  }
  child.kill('SIGKILL')
  await child.exited

  const db = await Tessera.open({ home })
  try {
    const seen = await db.jobs.get(last.id)
    expect(seen.status).toBe('interrupted')
    expect(seen.rowsDone).toBeGreaterThanOrEqual(last.rowsDone)
    expect(seen.rowsDone).toBeLessThan(1500)
    // (Batches are sized by their store time — up to the job's 50 rows, fewer on a slow machine — so the progress is
    // not a multiple of 50; that it is a committed batch's shows in the end: 1,500 rows done, none counted twice.)
    await db.jobs.resume(seen.id)
    const done = await db.jobs.wait(seen.id)
    expect(done).toMatchObject({ status: 'done', rowsDone: 1500, rowsTotal: 1500 })
    const t = await db.getTable('docs')
    expect(t.schema().n).toBe('int?')
    expect(await t.where(t.c.n.ne(t.c.text.len().add(1))).count()).toBe(0)
    expect(await t.where(t.c.n.isNull()).count()).toBe(0)
  } finally {
    await db.close()
    rmSync(home, { recursive: true, force: true })
  }
}, 180_000)
