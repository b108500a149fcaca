import { expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'
import { LEXICAL_MAX_DIMS } from './lexical.ts'

// Model functions for computed columns and queries. Each runs in TypeScript in batches (evalBatch) and imports its
// engine on first call, so registering them costs nothing at startup. Options travel in the node's opts.

function vectorType(node: FnNode, nullable: boolean): ColumnType {
  const dims = node.opts?.dims
  if (dims !== undefined && (!Number.isInteger(dims) || (dims as number) <= 0)) throw typeError(node, `${node.fn}() opts.dims must be a positive integer`)
  return t('array', nullable, { dtype: 'float32', ...(typeof dims === 'number' ? { shape: [dims] } : {}) })
}

function modelOpt(node: FnNode): string {
  const model = node.opts?.model
  if (typeof model !== 'string' || model === '') throw typeError(node, `${node.fn}() needs opts.model: a model folder or 'hf:org/name'`)
  return model
}

/** A value as a message shows it (JSON.stringify throws on a bigint, which a library caller can pass). */
const shown = (x: unknown): string => (typeof x === 'bigint' ? `${x}n` : JSON.stringify(x) ?? String(x))

/** The options an embedder function takes: their names, and the first option whose value is wrong (and why). */
export interface EmbedderOptionSpec {
  readonly names: readonly string[]
  readonly issue?: (opts: Readonly<Record<string, unknown>>) => { readonly option: string; readonly message: string } | undefined
}

/**
 * The built-in embedder functions' options. A new embedding index refuses any other name (embedders.ts,
 * checkEmbedder): an embedder's opts are stored with the index and rebuild its vectors, so a misspelt option would
 * otherwise be kept and ignored for good. Queries are not refused other names: an index stored before this check
 * may hold one, and its computed column is type-checked with the same function at every write.
 * embed_image's are its model, dims, output and normalize and ImagePreprocess's fields (image.ts).
 */
export const EMBEDDER_OPTIONS: Readonly<Record<string, EmbedderOptionSpec>> = {
  lexical_embed: {
    names: ['dims', 'seed', 'projection'],
    // Checked here, where queries and indexes both meet them, before the engine allocates a projection for them
    // (LEXICAL_FEATURES × dims floats per (dims, seed) pair: lexical.ts, LEXICAL_MAX_DIMS).
    issue: ({ dims, seed, projection }) => {
      if (projection !== undefined && projection !== 'sparse' && projection !== 'dense') return { option: 'projection', message: `opts.projection must be 'sparse' or 'dense', got ${shown(projection)}` }
      if (dims !== undefined && (!Number.isInteger(dims) || (dims as number) < 1 || (dims as number) > LEXICAL_MAX_DIMS)) {
        return { option: 'dims', message: `opts.dims must be an integer from 1 to ${LEXICAL_MAX_DIMS} (pgvector's HNSW limit), got ${shown(dims)}` }
      }
      if (seed !== undefined && !Number.isSafeInteger(seed)) return { option: 'seed', message: `opts.seed must be a safe integer, got ${shown(seed)}` }
      return undefined
    },
  },
  embed_text: { names: ['model', 'dims', 'maxLength'] },
  embed_image: { names: ['model', 'dims', 'output', 'normalize', 'size', 'fit', 'scale', 'mean', 'std', 'layout', 'channels'] },
}

scalar({
  name: 'lexical_embed', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => {
    const issue = EMBEDDER_OPTIONS.lexical_embed!.issue!(node.opts ?? {})
    if (issue) throw typeError(node, `lexical_embed() ${issue.message}`)
    return (expectKinds(node, types, 0, ['string']), vectorType(node, types[0]!.nullable))
  },
  evalBatch: async ([texts], node) => {
    const { lexicalEmbed } = await import('./lexical.ts')
    const o = node.opts ?? {}
    return lexicalEmbed(texts as string[], {
      ...(typeof o.dims === 'number' ? { dims: o.dims } : {}), ...(typeof o.seed === 'number' ? { seed: o.seed } : {}),
      ...(o.projection === 'sparse' ? { projection: 'sparse' as const } : {}),
    })
  },
})

scalar({
  name: 'embed_text', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['string']), modelOpt(node), vectorType(node, types[0]!.nullable)),
  evalBatch: async ([texts], node) => {
    const { sentenceEmbed } = await import('./sentence.ts')
    const maxLength = node.opts?.maxLength
    return sentenceEmbed(modelOpt(node), texts as string[], typeof maxLength === 'number' ? { maxLength } : {})
  },
})

scalar({
  name: 'embed_image', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['image', 'string', 'binary']), modelOpt(node), vectorType(node, types[0]!.nullable)),
  evalBatch: async ([images], node) => {
    const { imageEmbed } = await import('./image.ts')
    const { model: _m, dims: _d, ...opts } = node.opts ?? {}
    return imageEmbed(modelOpt(node), images as unknown[], opts)
  },
})

scalar({
  name: 'ocr', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => (expectKinds(node, types, 0, ['image', 'string', 'binary']), t('string', types[0]!.nullable)),
  evalBatch: async ([images]) => {
    const { ocrText } = await import('./ocr.ts')
    const out: string[] = []
    for (const img of images as unknown[]) out.push(await ocrText(img))
    return out
  },
})
