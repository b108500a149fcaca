import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { lexicalEmbed, lexicalFeatures, lexicalModel } from '../../src/inference/lexical.ts'
import { resolveModel } from '../../src/inference/models.ts'
import { defaultProvider, getSession } from '../../src/inference/runtime.ts'
import { meanPool, sentenceEmbed } from '../../src/inference/sentence.ts'
import { loadTokenizer } from '../../src/inference/tokenizer.ts'
import { MODELS_DIR, modelsMissing, tempDir } from '../support/db.ts'
import { TOY_DIMS, writeToyTextModel } from './toy-model.ts'
import { rejection } from '../support/settle.ts'

setDefaultTimeout(30_000)

const dot = (a: readonly number[], b: readonly number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0)

// The tokenizer tests and the toy model both read bert-uncased's tokenizer files from the test data.
const tokenizerMissing = modelsMissing('bert-uncased-tokenizer/tokenizer.json', 'bert-uncased-tokenizer/tokenizer_config.json', 'bert-uncased-tokenizer/config.json')

describe.skipIf(!!tokenizerMissing)('tokenizer', () => {
  test('bert-uncased from tokenizer.json gives the reference ids', async () => {
    const tok = await loadTokenizer(join(MODELS_DIR, 'bert-uncased-tokenizer'))
    const enc = tok.encode(['Hello offline world!', 'a b'])
    expect(enc.dims).toEqual([2, 7])
    expect(Array.from(enc.inputIds.slice(0, 7), Number)).toEqual([101, 7592, 2125, 4179, 2088, 999, 102])
    expect(Array.from(enc.attentionMask.slice(7), Number)).toEqual([1, 1, 1, 1, 0, 0, 0])
  })
})

describe('providers', () => {
  test('TESSERA_EP overrides and rejects unknown names', () => {
    expect(defaultProvider({ TESSERA_EP: 'wasm' })).toBe('wasm')
    expect(() => defaultProvider({ TESSERA_EP: 'tpu' })).toThrow(/TESSERA_EP=tpu/)
  })
  test('sessions are cached per (model, provider)', async () => {
    const bytes = lexicalModel(16, 1)
    const a = await getSession(bytes, { key: 'test:cache', provider: 'cpu' })
    const b = await getSession(bytes, { key: 'test:cache', provider: 'cpu' })
    expect(a).toBe(b)
    expect(a.session.inputNames).toEqual(['ids', 'weights'])
  })
  test('the wasm provider (onnxruntime-web) gives the same vectors as native CPU', async () => {
    const [cpu] = await lexicalEmbed(['portable inference'], { dims: 32, provider: 'cpu' })
    const [wasm] = await lexicalEmbed(['portable inference'], { dims: 32, provider: 'wasm' })
    expect(dot(cpu!, wasm!)).toBeCloseTo(1, 4)
  })
})

describe('lexical embedder', () => {
  test('model bytes are deterministic and vectors unit length', async () => {
    expect(Buffer.from(lexicalModel(64, 3)).equals(Buffer.from(lexicalModel(64, 3)))).toBe(true)
    const [a, b, c, empty] = await lexicalEmbed(['the quick brown fox', 'quick brown foxes jump', 'stock markets fell sharply', ''])
    expect(a!.length).toBe(256)
    expect(dot(a!, a!)).toBeCloseTo(1, 4)
    expect(dot(a!, b!)).toBeGreaterThan(0.4)
    expect(Math.abs(dot(a!, c!))).toBeLessThan(0.25)
    expect(empty!.every((x) => x === 0)).toBe(true)
  })
  test('batched and one-by-one give the same vectors', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `document number ${i} about topic ${i % 7}`)
    const batched = await lexicalEmbed(texts, { batchSize: 16 })
    const single = await lexicalEmbed([texts[33]!])
    expect(dot(batched[33]!, single[0]!)).toBeCloseTo(1, 5)
    expect(lexicalFeatures('Cat cat CAT').size).toBe(lexicalFeatures('cat').size)
  })
})

describe.skipIf(!!tokenizerMissing)('sentence embedder', () => {
  let dir: string
  beforeAll(() => {
    dir = writeToyTextModel(join(tempDir(), 'toy'))
  })

  test('mean pooling uses the attention mask, then L2-normalises', () => {
    const hidden = Float32Array.from([1, 0, 3, 0, 100, 100]) // one text, 3 tokens, 2 dims; the last is padding
    const [v] = meanPool(hidden, BigInt64Array.from([1n, 1n, 0n]), 1, 3, 2)
    expect(v![0]).toBeCloseTo(1, 6)
    expect(v![1]).toBeCloseTo(0, 6)
  })

  test('tokenize → ONNX → pool: shared words are closer, padding does not change a vector', async () => {
    const [cat1, cat2, stocks] = await sentenceEmbed(dir, ['the cat sat', 'a cat sat down', 'stock markets fell'])
    expect(cat1!.length).toBe(TOY_DIMS)
    expect(dot(cat1!, cat2!)).toBeGreaterThan(dot(cat1!, stocks!))
    const [alone] = await sentenceEmbed(dir, ['the cat sat'])
    expect(dot(alone!, cat1!)).toBeCloseTo(1, 5)
  })

  describe('hf: models from a local endpoint', () => {
    let server: ReturnType<typeof Bun.serve>
    const hits: string[] = []
    const env = { ...process.env }
    beforeAll(() => {
      server = Bun.serve({
        hostname: '127.0.0.1', port: 0,
        fetch(req) {
          const path = new URL(req.url).pathname
          hits.push(path)
          const m = /^\/acme\/toy\/resolve\/main\/(.+)$/.exec(path)
          const file = m ? join(dir, m[1]!) : ''
          return m && existsSync(file) ? new Response(Bun.file(file)) : new Response('not found', { status: 404 })
        },
      })
      process.env.TESSERA_HF_ENDPOINT = `http://127.0.0.1:${server.port}`
      process.env.TESSERA_MODEL_CACHE = tempDir('tessera-models-')
    })
    afterAll(() => {
      server.stop(true)
      for (const k of ['TESSERA_HF_ENDPOINT', 'TESSERA_MODEL_CACHE']) if (env[k] === undefined) delete process.env[k]; else process.env[k] = env[k]
    })

    test('downloads once into the cache, then embeds like the local folder', async () => {
      const folder = await resolveModel('hf:acme/toy')
      expect(folder.onnx.startsWith(process.env.TESSERA_MODEL_CACHE!)).toBe(true)
      expect(readdirSync(folder.dir).sort()).toEqual(expect.arrayContaining(['config.json', 'model.onnx', 'onnx', 'tokenizer.json']))
      expect(hits).toContain('/acme/toy/resolve/main/onnx/model.onnx') // tried first, 404, then model.onnx
      const [remote] = await sentenceEmbed('hf:acme/toy', ['the cat sat'])
      const [local] = await sentenceEmbed(dir, ['the cat sat'])
      expect(dot(remote!, local!)).toBeCloseTo(1, 6)
      const n = hits.length
      await resolveModel('hf:acme/toy')
      expect(hits.length).toBe(n)
    })

    test('a missing model is NOT_FOUND, a bad name INVALID_ARGUMENT', async () => {
      await expect(await rejection(resolveModel('hf:acme/missing'))).toMatchObject({ code: 'NOT_FOUND' })
      await expect(await rejection(resolveModel('hf:not a name'))).toMatchObject({ code: 'INVALID_ARGUMENT' })
    })
  })
})

// Semantic quality needs a real sentence-transformers ONNX export, which cannot be downloaded here: set
// TESSERA_TEXT_MODEL to its folder (model.onnx + tokenizer.json) to run this; otherwise it is skipped, saying why.
const TEXT_MODEL = process.env.TESSERA_TEXT_MODEL
describe.skipIf(!TEXT_MODEL)('sentence embedder on a real model (TESSERA_TEXT_MODEL)', () => {
  test('paraphrases are closer than unrelated sentences', async () => {
    const [a, b, c] = await sentenceEmbed(TEXT_MODEL!, ['a cat sits on the mat', 'a kitten is resting on a rug', 'stock markets fell sharply today'])
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i]!, 0)
    expect(dot(a!, b!)).toBeGreaterThan(dot(a!, c!) + 0.1)
  })
})
if (!TEXT_MODEL) console.log('skipping semantic text-embedding test: set TESSERA_TEXT_MODEL to a sentence-transformers ONNX export')
