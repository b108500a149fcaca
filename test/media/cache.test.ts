import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { FileCache } from '../../src/media/index.ts'
import { tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// A local HTTP server stands in for remote media; it counts requests so "fetched once" is observable.
const hits = new Map<string, number>()
const server = Bun.serve({
  hostname: '127.0.0.1', port: 0,
  fetch(req) {
    const path = new URL(req.url).pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    if (path.startsWith('/missing')) return new Response('no', { status: 404 })
    const size = Number(/\/(\d+)\./.exec(path)?.[1] ?? 10)
    return new Response(new Uint8Array(size).fill(path.length % 251))
  },
})
const url = (p: string) => `http://127.0.0.1:${server.port}${p}`
afterAll(() => server.stop(true))

describe('FileCache', () => {
  test('fetches a URL once, then serves the cached file; concurrent gets share one download', async () => {
    const cache = new FileCache(tempDir())
    const [a, b] = await Promise.all([cache.get(url('/once/100.bin')), cache.get(url('/once/100.bin'))])
    expect(a).toBe(b)
    expect(a.endsWith('.bin')).toBe(true)
    expect(readFileSync(a).length).toBe(100)
    await cache.get(url('/once/100.bin'))
    expect(hits.get('/once/100.bin')).toBe(1)
    expect(cache.fetches).toBe(1)
  })

  test('evicts the least recently used files past maxBytes, and remembers recency across instances', async () => {
    const dir = tempDir()
    const cache = new FileCache(dir, { maxBytes: 250 })
    const pa = await cache.get(url('/lru/a/100.bin'))
    await Bun.sleep(5)
    await cache.get(url('/lru/b/100.bin'))
    await Bun.sleep(5)
    await cache.get(url('/lru/a/100.bin')) // a is now more recent than b
    await Bun.sleep(5)
    await cache.get(url('/lru/c/100.bin')) // 300 > 250: b goes
    expect(cache.totalBytes).toBe(200)
    expect(cache.has(url('/lru/b/100.bin'))).toBe(false)
    expect(cache.has(url('/lru/a/100.bin'))).toBe(true)
    expect(existsSync(pa)).toBe(true)
    // A new instance (a restart) reads the same files and the same order from their mtimes.
    const again = new FileCache(dir, { maxBytes: 250 })
    expect(again.totalBytes).toBe(200)
    await again.get(url('/lru/d/100.bin')) // a is now the least recent
    expect(again.has(url('/lru/a/100.bin'))).toBe(false)
    expect(again.has(url('/lru/c/100.bin'))).toBe(true)
    expect(hits.get('/lru/a/100.bin')).toBe(1)
  })

  test('HTTP errors are INVALID_MEDIA naming the URL and status', async () => {
    const cache = new FileCache(tempDir())
    await expect(await rejection(cache.get(url('/missing/x.png')))).toMatchObject({ code: 'INVALID_MEDIA', message: expect.stringContaining('HTTP 404') })
    expect(cache.totalBytes).toBe(0)
  })
})
