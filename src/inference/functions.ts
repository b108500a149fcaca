import { expectKinds, scalar, t, typeError } from '../query/index.ts'
import type { FnNode } from '../query/index.ts'
import type { ColumnType } from '../types/index.ts'

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

scalar({
  name: 'lexical_embed', minArgs: 1, maxArgs: 1, deterministic: true,
  returnType: (types, node) => {
    const projection = node.opts?.projection
    if (projection !== undefined && projection !== 'sparse' && projection !== 'dense') throw typeError(node, `lexical_embed() opts.projection must be 'sparse' or 'dense'`)
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
