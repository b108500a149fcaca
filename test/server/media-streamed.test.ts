import { afterAll, beforeAll, expect, test } from 'bun:test'
import { execFileSync } from 'node:child_process'
import { open } from 'node:fs/promises'
import { join } from 'node:path'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// GET …/-/media read the whole file into memory before it answered: a 1 GB video took 1 GB for each request that
// played it. It is now sent a slice at a time as it is read. Shown with a named pipe as the media file: its writer
// sends the first part and waits for the client to have it before sending the rest, which only a response that
// streams the file can serve (read whole, the response waited for the end of a file whose end waited for it).

let db: Tessera
let app: ReturnType<typeof createApp>
let fifo = ''

beforeAll(async () => {
  db = await memoryDb()
  app = createApp(db)
  fifo = join(tempDir(), 'growing.txt')
  execFileSync('mkfifo', [fifo])
  const t = await db.createTable('piped', { id: 'int', d: 'document?' }, { mediaValidation: 'on_read' })
  await t.insert([{ id: 1, d: fifo }])
})
afterAll(async () => { await db.close() })

test('a media file goes out as it is read, not once it has been read whole', async () => {
  let received!: () => void
  const firstReceived = new Promise<void>((resolve) => (received = resolve))
  const writer = (async () => {
    const w = await open(fifo, 'w')
    await w.write('hello, ')
    await firstReceived
    await w.write('world')
    await w.close()
  })()
  const res = await app.request(`/api/v1/tables/piped/-/media?column=d&ref=${encodeURIComponent(fifo)}`)
  expect(res.status).toBe(200)
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const first = await reader.read()
  let text = decoder.decode(first.value)
  expect(text).toBe('hello, ')
  received()
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value)
  await writer
  expect(text).toBe('hello, world')
}, 20_000)
