import { afterAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { Tessera, TesseraError } from '../../src/index.ts'
import { tempDir } from '../support/db.ts'

const WRITER = join(import.meta.dir, 'fixtures/writer.ts')
const children: ReturnType<typeof Bun.spawn>[] = []
afterAll(() => children.forEach((c) => c.kill(9)))

function spawnWriter(home: string, mode = 'hold') {
  const child = Bun.spawn([process.execPath, WRITER, home, mode], { stdout: 'pipe', stderr: 'inherit' })
  children.push(child)
  return child
}

/** Reads a child's stdout line by line until `until` matches; returns the lines seen. */
async function readUntil(child: ReturnType<typeof spawnWriter>, until: (line: string) => boolean): Promise<string[]> {
  const lines: string[] = []
  const reader = (child.stdout as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let buf = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    buf += decoder.decode(value)
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      lines.push(line)
      if (until(line)) {
        reader.releaseLock()
        return lines
      }
    }
  }
  return lines
}

describe('data dir lock', () => {
  test('a second process is refused with the holder pid; kill -9 leaves no stale lock', async () => {
    const home = tempDir()
    const holder = spawnWriter(home)
    const [line] = await readUntil(holder, (l) => l.startsWith('opened') || l.startsWith('failed'))
    expect(line).toBe(`opened ${holder.pid}`)

    const err = await Tessera.open({ home }).then(() => undefined, (e) => e)
    expect(err).toBeInstanceOf(TesseraError)
    expect(err.code).toBe('DATA_DIR_LOCKED')
    expect(err.message).toContain(String(holder.pid))

    holder.kill(9)
    await holder.exited
    const db = await Tessera.open({ home })
    expect(await db.listTables()).toEqual([])
    await db.close()
  }, 60000)

  test('two processes racing for one data dir: exactly one wins', async () => {
    const home = tempDir()
    const a = spawnWriter(home)
    const b = spawnWriter(home)
    const [la, lb] = await Promise.all([
      readUntil(a, (l) => l.startsWith('opened') || l.startsWith('failed')),
      readUntil(b, (l) => l.startsWith('opened') || l.startsWith('failed')),
    ])
    const results = [la.at(-1)!, lb.at(-1)!].sort()
    expect(results[0]).toStartWith('failed DATA_DIR_LOCKED')
    expect(results[1]).toStartWith('opened')
  }, 60000)
})

describe('crash safety', () => {
  test('kill -9 during inserts loses no committed row', async () => {
    const home = tempDir()
    const writer = spawnWriter(home, 'insert')
    const lines = await readUntil(writer, (l) => l.startsWith('failed') || (l.startsWith('committed') && Number(l.split(' ')[1]) >= 1000))
    expect(lines.at(-1)).toStartWith('committed')
    // Let it keep inserting a moment so the kill lands mid-write.
    await Bun.sleep(150)
    writer.kill(9)
    await writer.exited
    const committed = Number(lines.at(-1)!.split(' ')[1])
    const db = await Tessera.open({ home })
    const t = await db.getTable('crash')
    const n = await t.count()
    expect(n).toBeGreaterThanOrEqual(committed)
    expect(n % 50).toBe(0) // whole transactions only
    const ids = (await t.select('id').collect()).column('id') as number[]
    expect(new Set(ids).size).toBe(n)
    // History matches the rows: every version inserted 50.
    const history = await t.history()
    expect(history.filter((h) => h.kind === 'insert').length * 50).toBe(n)
    await db.close()
  }, 120000)
})
