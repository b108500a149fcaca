import { expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import sharp from 'sharp'
import { memoryDb } from '../support/db.ts'

// An in-memory database keeps its media in a temporary folder of its own; close() removes it (every in-memory
// database used to leave one behind in /tmp).

test('close() removes an in-memory database\'s media folder, and only its own', async () => {
  const png = new Uint8Array(await sharp({ create: { width: 2, height: 2, channels: 3, background: '#f00' } }).png().toBuffer())
  const a = await memoryDb()
  const b = await memoryDb()
  const ta = await a.createTable('pics', { img: 'image' })
  const tb = await b.createTable('pics', { img: 'image' })
  await ta.insert([{ img: png }])
  await tb.insert([{ img: png }])
  const storeA = (a.media.store as unknown as { dir: string }).dir
  const storeB = (b.media.store as unknown as { dir: string }).dir
  expect(existsSync(storeA)).toBe(true)
  expect(storeA).not.toBe(storeB)
  expect(storeA).toContain('tessera-mem-')
  await a.close()
  expect(existsSync(dirname(storeA))).toBe(false)
  expect(existsSync(storeB)).toBe(true)
  expect((await tb.collect()).rows).toHaveLength(1)
  await b.close()
  expect(existsSync(dirname(storeB))).toBe(false)
})
