import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { notFound } from '../errors.ts'

// Tokenizers come from @huggingface/transformers, built from a model folder's tokenizer.json (+ tokenizer_config.json);
// nothing is fetched. The package is imported on first use only.

export interface Encoded {
  readonly inputIds: BigInt64Array
  readonly attentionMask: BigInt64Array
  readonly dims: readonly [number, number]
}

export interface TextTokenizer {
  encode(texts: readonly string[], maxLength?: number): Encoded
}

type HfTokenizer = (texts: string[], o: Record<string, unknown>) => { input_ids: { data: BigInt64Array; dims: number[] }; attention_mask: { data: BigInt64Array } }

const cache = new Map<string, Promise<TextTokenizer>>()

export function loadTokenizer(dir: string): Promise<TextTokenizer> {
  let t = cache.get(dir)
  if (!t) {
    t = create(dir)
    cache.set(dir, t)
    t.catch(() => cache.delete(dir))
  }
  return t
}

/** The tokenizer of a folder with tokenizer.json (+ tokenizer_config.json), as @huggingface/transformers builds it. */
export async function loadHfTokenizer(dir: string): Promise<{ tokenizer: unknown; config: Record<string, unknown> }> {
  const file = join(dir, 'tokenizer.json')
  if (!existsSync(file)) throw notFound('NOT_FOUND', `no tokenizer.json in ${dir}`, { tokenizer: dir })
  const configFile = join(dir, 'tokenizer_config.json')
  const config = existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {}
  const { PreTrainedTokenizer } = await import('@huggingface/transformers')
  return { tokenizer: new PreTrainedTokenizer(JSON.parse(readFileSync(file, 'utf8')), config), config }
}

async function create(dir: string): Promise<TextTokenizer> {
  const { tokenizer, config } = await loadHfTokenizer(dir)
  const tok = tokenizer as HfTokenizer
  const modelMax = typeof config.model_max_length === 'number' && config.model_max_length < 100_000 ? config.model_max_length : 512
  return {
    encode(texts, maxLength = modelMax) {
      const enc = tok([...texts], { padding: true, truncation: true, max_length: maxLength })
      const dims = enc.input_ids.dims
      return { inputIds: enc.input_ids.data, attentionMask: enc.attention_mask.data, dims: [dims[0]!, dims[1]!] }
    },
  }
}
