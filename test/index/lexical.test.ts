import { describe, expect, test } from 'bun:test'
import { embedders, embedValues } from '../../src/inference/index.ts'
import { lexicalEmbed } from '../../src/inference/lexical.ts'
import { throwing } from '../support/settle.ts'

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)
const WORDS = 'river bank money stone garden music paper window engine forest coffee winter silver market doctor'.split(' ')
const texts = Array.from({ length: 200 }, (_, i) => Array.from({ length: 6 }, (_, j) => WORDS[(i * 7 + j * 5 + ((i * j) % 3)) % WORDS.length]).join(' '))

describe('lexical embedder in JS', () => {
  test('the dense projection gives the ONNX reference vectors (old indexes keep matching their stored vectors)', async () => {
    const js = await lexicalEmbed(texts.slice(0, 50))
    const onnx = await lexicalEmbed(texts.slice(0, 50), { provider: 'cpu' })
    for (let i = 0; i < 50; i++) for (let d = 0; d < 256; d++) expect(Math.abs(js[i]![d]! - onnx[i]![d]!)).toBeLessThan(1e-5)
  })

  test('the sparse projection (new indexes) ranks pairs like the dense one', async () => {
    const dense = await lexicalEmbed(texts)
    const sparse = await lexicalEmbed(texts, { projection: 'sparse' })
    expect(dot(sparse[0]!, sparse[0]!)).toBeCloseTo(1, 4)
    let n = 0, sumSq = 0
    for (let i = 0; i < 60; i++) for (let j = i + 1; j < 60; j++) {
      sumSq += (dot(dense[i]!, dense[j]!) - dot(sparse[i]!, sparse[j]!)) ** 2
      n++
    }
    // Both approximate the same inner products of hashed features: they differ by random-projection noise only.
    expect(Math.sqrt(sumSq / n)).toBeLessThan(0.12)
    const [a, b, c, empty] = await lexicalEmbed(['the quick brown fox', 'quick brown foxes jump', 'stock markets fell sharply', ''], { projection: 'sparse' })
    expect(dot(a!, b!)).toBeGreaterThan(0.4)
    expect(Math.abs(dot(a!, c!))).toBeLessThan(0.25)
    expect(empty!.every((x) => x === 0)).toBe(true)
  })

  test('embedders.lexical() names its projection, so stored and query vectors are made the same way', async () => {
    expect(embedders.lexical().opts).toEqual({ dims: 256, seed: 1729, projection: 'sparse' })
    expect(embedders.lexical({ projection: 'dense' }).opts).toEqual({ dims: 256, seed: 1729 })
    const [viaFn] = await embedValues(embedders.lexical(), [texts[3]!])
    const [direct] = await lexicalEmbed([texts[3]!], { projection: 'sparse' })
    expect(viaFn).toEqual(direct!)
  })
})

test('a big batch yields the thread after every few milliseconds of work, whatever the projection costs a text', async () => {
  // The dense projection costs ~35,000 multiply-adds a text: 5,000 texts are hundreds of milliseconds of work. A yield
  // every 1,024 texts (the old rule) made 4 yields, each after 1,024 texts' work; by time (~8 ms a slice) there are
  // dozens. The yields are counted where they happen (setTimeout with no delay).
  const many = Array.from({ length: 5000 }, (_, i) => `${texts[i % texts.length]} w${i}`)
  const realSetTimeout = globalThis.setTimeout
  let yields = 0
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    if (!ms) yields++
    return realSetTimeout(fn, ms)
  }) as typeof setTimeout
  let out: number[][]
  const began = performance.now()
  try {
    out = await lexicalEmbed(many)
  } finally {
    globalThis.setTimeout = realSetTimeout
  }
  const ms = performance.now() - began
  expect(out).toHaveLength(5000)
  expect(yields).toBeGreaterThanOrEqual(Math.max(10, Math.floor(ms / 40)))
  expect(out[4999]).toEqual((await lexicalEmbed([many[4999]!]))[0]!)
})

test('an unknown projection is refused by name', async () => {
  const { withDims } = await import('../../src/inference/index.ts')
  await expect(await throwing(withDims({ fn: 'lexical_embed', opts: { projection: 'fast' }, modality: 'text' }))).toThrow(/projection must be 'sparse' or 'dense'/)
})
