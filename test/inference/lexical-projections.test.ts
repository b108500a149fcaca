import { describe, expect, test } from 'bun:test'
import { embedders } from '../../src/inference/index.ts'
import { clearLexicalCache, LEXICAL_CACHE_BYTES, LEXICAL_FEATURES, LEXICAL_MAX_DIMS, lexicalCacheStats, lexicalEmbed } from '../../src/inference/lexical.ts'
import { gaussianFiller, gaussianMatrix } from '../../src/inference/onnx-proto.ts'
import { throwing } from '../support/settle.ts'

// The lexical embedder keeps a projection per (dims, seed) pair. A request can name any seed, so what it keeps must be
// bounded (a tester's three read-only queries with seeds 11, 12, 13 at dims 10,000 held +320 MB each, for good), and
// building one must not hold the thread (3.2 s per query, /health stalled with it).

/** setTimeout(fn) with no delay counted while `fn` runs: that is how lexical.ts yields the thread. */
async function countingYields<T>(fn: () => Promise<T>): Promise<{ value: T; yields: number }> {
  const realSetTimeout = globalThis.setTimeout
  let yields = 0
  globalThis.setTimeout = ((f: () => void, ms?: number) => {
    if (!ms) yields++
    return realSetTimeout(f, ms)
  }) as typeof setTimeout
  try {
    return { value: await fn(), yields }
  } finally {
    globalThis.setTimeout = realSetTimeout
  }
}

describe('lexical projections', () => {
  test('dims above LEXICAL_MAX_DIMS, or not an integer, and seeds that are not safe integers are refused by the engine, naming the option', async () => {
    expect(LEXICAL_MAX_DIMS).toBe(2000)
    await expect(await throwing(lexicalEmbed(['x'], { dims: 10_000, seed: 11 }))).toThrow(/dims must be an integer from 1 to 2000, got 10000/)
    await expect(await throwing(lexicalEmbed(['x'], { dims: 1_000_000 }))).toThrow(/dims must be an integer from 1 to 2000/)
    await expect(await throwing(lexicalEmbed(['x'], { dims: 0 }))).toThrow(/dims must be an integer from 1 to 2000, got 0/)
    await expect(await throwing(lexicalEmbed(['x'], { dims: 1.5 }))).toThrow(/dims must be an integer/)
    await expect(await throwing(lexicalEmbed(['x'], { seed: 2 ** 60 }))).toThrow(/seed must be a safe integer/)
    await expect(await throwing(lexicalEmbed(['x'], { seed: 0.5, projection: 'sparse' }))).toThrow(/seed must be a safe integer, got 0.5/)
    // Nothing was built for them.
    expect(lexicalCacheStats().keys.some((k) => k.includes('10000') || k.includes('1000000'))).toBe(false)
    // The largest allowed is fine.
    const [v] = await lexicalEmbed(['hello world'], { dims: LEXICAL_MAX_DIMS, projection: 'sparse' })
    expect(v).toHaveLength(LEXICAL_MAX_DIMS)
  })

  test('distinct seeds do not grow what is kept past its budget; the default pair stays kept, and an evicted pair is rebuilt the same', async () => {
    clearLexicalCache()
    const [dflt] = await lexicalEmbed(['the default pair'])
    const [first] = await lexicalEmbed(['river bank money'], { dims: LEXICAL_MAX_DIMS, seed: 11 })
    // Each is LEXICAL_FEATURES × 2,000 float32s (65.5 MB): three are more than the budget holds.
    for (const seed of [12, 13]) await lexicalEmbed(['river bank money'], { dims: LEXICAL_MAX_DIMS, seed })
    const stats = lexicalCacheStats()
    expect(stats.bytes).toBeLessThanOrEqual(LEXICAL_CACHE_BYTES)
    expect(stats.keys).toEqual([`dense:${LEXICAL_MAX_DIMS}:12`, `dense:${LEXICAL_MAX_DIMS}:13`])
    expect(stats.bytes).toBe(2 * LEXICAL_FEATURES * LEXICAL_MAX_DIMS * 4)
    expect(stats.pinned).toEqual(['dense:256:1729'])
    // Rebuilt after eviction: the same vectors (stored ones keep matching new query vectors).
    expect((await lexicalEmbed(['river bank money'], { dims: LEXICAL_MAX_DIMS, seed: 11 }))[0]).toEqual(first!)
    expect(lexicalCacheStats().keys).toEqual([`dense:${LEXICAL_MAX_DIMS}:13`, `dense:${LEXICAL_MAX_DIMS}:11`])
    expect((await lexicalEmbed(['the default pair']))[0]).toEqual(dflt!)
    expect(lexicalCacheStats().pinned).toEqual(['dense:256:1729'])
  }, 120_000)

  test('many sparse seeds stay within the budget too, and the default sparse pair is kept whatever comes after', async () => {
    clearLexicalCache()
    await lexicalEmbed(['x'], { projection: 'sparse' })
    const one = LEXICAL_FEATURES * 16 * 8 // positions (int32) and signs (float32), 16 a bucket
    const n = Math.ceil(LEXICAL_CACHE_BYTES / one) + 10
    for (let seed = 0; seed < n; seed++) await lexicalEmbed(['x'], { dims: 64, seed, projection: 'sparse' })
    const stats = lexicalCacheStats()
    expect(stats.bytes).toBeLessThanOrEqual(LEXICAL_CACHE_BYTES)
    expect(stats.keys.length).toBeLessThan(n)
    expect(stats.keys).not.toContain('sparse:64:0')
    expect(stats.keys.at(-1)).toBe(`sparse:64:${n - 1}`)
    expect(stats.pinned).toEqual(['sparse:256:1729'])
  }, 120_000)

  test('building a dense projection yields the thread between slices instead of holding it for the whole build', async () => {
    clearLexicalCache()
    // One text: the embedding itself never reaches a yield (it yields every ~8 ms of texts), so every yield counted
    // is the build's. 1,000 dims is ~8M samples, hundreds of milliseconds: built in one go that was zero yields.
    const began = performance.now()
    const { value, yields } = await countingYields(() => lexicalEmbed(['hello world'], { dims: 1000, seed: 77 }))
    const ms = performance.now() - began
    expect(value[0]).toHaveLength(1000)
    expect(yields).toBeGreaterThanOrEqual(Math.max(5, Math.floor(ms / 40)))
  }, 60_000)

  test('a call arriving while its pair is being built gets the finished matrix, not a part-filled one', async () => {
    clearLexicalCache()
    // The build yields between slices, so a second call for the pair can arrive mid-build: it must wait for the whole
    // matrix (sharing the build), never read the part filled so far.
    const [a, b] = await Promise.all([
      lexicalEmbed(['a b c'], { dims: 512, seed: 5 }),
      (async () => (await new Promise((r) => setTimeout(r, 20)), lexicalEmbed(['zebra quartz'], { dims: 512, seed: 5 })))(),
    ])
    expect(lexicalCacheStats().keys).toEqual(['dense:512:5'])
    clearLexicalCache()
    expect(a).toEqual(await lexicalEmbed(['a b c'], { dims: 512, seed: 5 }))
    expect(b).toEqual(await lexicalEmbed(['zebra quartz'], { dims: 512, seed: 5 }))
  }, 60_000)

  test('gaussianFiller over consecutive ranges gives gaussianMatrix exactly (the built matrices are the ONNX model\'s)', () => {
    const n = 8192 * 3
    const whole = gaussianMatrix(n, 42, 0.25)
    const parts = new Float32Array(n)
    const fill = gaussianFiller(42, 0.25)
    for (let i = 0; i < n; i += 1000) fill(parts, i, Math.min(n, i + 1000))
    expect([...parts]).toEqual([...whole])
  })

  test('embedders.lexical() refuses an option it does not take instead of dropping it', () => {
    expect(() => embedders.lexical({ dim: 384 } as never)).toThrow(/embedders.lexical: unknown option 'dim'; it takes 'dims', 'seed', 'projection'/)
    expect(embedders.lexical({ dims: 384 }).opts).toMatchObject({ dims: 384 })
  })
})
