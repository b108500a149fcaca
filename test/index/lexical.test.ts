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

test('an unknown projection is refused by name', async () => {
  const { withDims } = await import('../../src/inference/index.ts')
  await expect(await throwing(withDims({ fn: 'lexical_embed', opts: { projection: 'fast' }, modality: 'text' }))).toThrow(/projection must be 'sparse' or 'dense'/)
})
