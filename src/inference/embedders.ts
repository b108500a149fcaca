import { invalid, refuseUnknownOptions } from '../errors.ts'
import type { FnNode } from '../query/index.ts'
import { colNode, fnNode, functions, litNode, t } from '../query/index.ts'
import { EMBEDDER_OPTIONS } from './functions.ts'
import type { ImagePreprocess } from './image.ts'
import { LEXICAL_DEFAULT_DIMS, LEXICAL_DEFAULT_SEED } from './lexical.ts'

// An embedder is plain data naming a registered function and its options, so an embedding index stores it in the
// catalog (as its hidden column's expression) and any process, or the HTTP API, can rebuild it.

export interface Embedder {
  /** The registered function: 'lexical_embed', 'embed_text' or 'embed_image' (or a UDF with the same contract). */
  readonly fn: string
  readonly opts: Readonly<Record<string, unknown>>
  /** What it embeds: similarity(string) needs 'text', similarity({ image }) needs 'image'. */
  readonly modality: 'text' | 'image'
}

export const embedders = {
  /**
   * The built-in lexical embedder (no download; no semantics: shared words and word pieces only). New indexes use the
   * fast sparse projection; `projection: 'dense'` gives the vectors of indexes made before it (lexical.ts).
   */
  lexical(options: { dims?: number; seed?: number; projection?: 'dense' | 'sparse' } = {}): Embedder {
    // It copies the options it knows into opts: any other name would be dropped without a word, so it is refused.
    refuseUnknownOptions('embedders.lexical', options, EMBEDDER_OPTIONS.lexical_embed!.names)
    const projection = options.projection ?? 'sparse'
    return {
      fn: 'lexical_embed', modality: 'text',
      opts: { dims: options.dims ?? LEXICAL_DEFAULT_DIMS, seed: options.seed ?? LEXICAL_DEFAULT_SEED, ...(projection === 'sparse' ? { projection } : {}) },
    }
  },
  /** A sentence-transformers ONNX export: a local folder or 'hf:org/name'. */
  text(model: string, options: { dims?: number; maxLength?: number } = {}): Embedder {
    return { fn: 'embed_text', opts: { model, ...options }, modality: 'text' }
  },
  /** An ONNX image model with its preprocessing; `output` picks pooled features or logits. */
  image(model: string, options: ImagePreprocess & { output?: string; dims?: number } = {}): Embedder {
    return { fn: 'embed_image', opts: { model, ...options }, modality: 'image' }
  },
}

export function embedderNode(e: Embedder, arg: FnNode['args'][number]): FnNode {
  return fnNode(e.fn, [arg], e.opts)
}

/** Embeds values (texts or image references) with an embedder, outside any query. */
export async function embedValues(e: Embedder, values: readonly unknown[]): Promise<number[][]> {
  const node = embedderNode(e, litNode(null))
  const def = functions.get(e.fn, node)
  if (!def.evalBatch) throw invalid('INVALID_ARGUMENT', `embedder function '${e.fn}' has no batch evaluation`)
  return (await def.evalBatch([values], node, values.length)) as number[][]
}

/** The embedder with its output size filled in (measured on a probe input when the options do not say). */
export async function withDims(e: Embedder): Promise<Embedder & { opts: { dims: number } }> {
  checkEmbedder(e)
  if (typeof e.opts.dims === 'number') return e as Embedder & { opts: { dims: number } }
  const probe = e.modality === 'text' ? 'probe' : await probeImage()
  const [v] = await embedValues(e, [probe])
  return { ...e, opts: { ...e.opts, dims: v!.length } }
}

/**
 * Checks an embedder for a new index before anything runs it: a built-in embedder function's option names and values
 * (EMBEDDER_OPTIONS, the same check its type check makes in queries), then its modality. An embedder of another
 * function (a UDF) has options only it knows; its own type check sees them.
 */
export function checkEmbedder(e: Embedder): void {
  if (e === null || typeof e !== 'object' || typeof e.fn !== 'string') throw invalid('INVALID_ARGUMENT', `embed must be an embedder such as embedders.lexical(), got ${JSON.stringify(e)}`)
  const opts: unknown = e.opts ?? {}
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw invalid('INVALID_ARGUMENT', `embedder '${e.fn}': opts must be an object of options, got ${JSON.stringify(opts)}`)
  const spec = EMBEDDER_OPTIONS[e.fn]
  if (spec) {
    refuseUnknownOptions(`embedder '${e.fn}'`, opts, spec.names)
    const issue = spec.issue?.(opts as Record<string, unknown>)
    if (issue) throw invalid('INVALID_ARGUMENT', `embedder '${e.fn}': ${issue.message}`, { option: issue.option })
  }
  checkModality(e)
}

/**
 * An embedder arriving as data (HTTP, setup files) may name a modality its function cannot take; the function's own
 * type check says so before any probe or query runs it on the wrong kind of input.
 */
function checkModality(e: Embedder): void {
  if (e.modality !== 'text' && e.modality !== 'image') throw invalid('INVALID_ARGUMENT', `embedder '${e.fn}': modality must be 'text' or 'image' (got ${JSON.stringify(e.modality)})`)
  const node = embedderNode(e, colNode('(indexed column)'))
  try {
    functions.get(e.fn, node).returnType([t(e.modality === 'text' ? 'string' : 'image')], node)
  } catch (err) {
    throw invalid('INVALID_ARGUMENT', `embedder '${e.fn}' cannot be used with modality '${e.modality}': ${(err as Error).message}`)
  }
}

async function probeImage(): Promise<Uint8Array> {
  const { default: sharp } = await import('sharp')
  return new Uint8Array(await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 128, g: 128, b: 128 } } }).png().toBuffer())
}
