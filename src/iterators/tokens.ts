import { loadHfTokenizer } from '../inference/index.ts'

// Token counting for token_limit splitting. With a tokenizer folder (tokenizer.json, as models ship it) counts are
// the model's own; without one, a token is a whitespace-separated word, which undercounts subword tokens by roughly
// 1.3x on English text, so pick a smaller limit when no tokenizer is configured.

export interface TokenCounter {
  readonly name: string
  count(text: string): number
}

export const whitespaceTokens: TokenCounter = {
  name: 'whitespace',
  count: (text) => text.split(/\s+/).filter(Boolean).length,
}

const loaded = new Map<string, Promise<TokenCounter>>()

type Encoder = { encode(text: string, options: { add_special_tokens: boolean }): number[] }

/** A counter from a local tokenizer folder (nothing is downloaded). */
export function tokenCounter(dir: string | undefined): Promise<TokenCounter> {
  if (!dir) return Promise.resolve(whitespaceTokens)
  let p = loaded.get(dir)
  if (!p) {
    p = (async () => {
      const tok = (await loadHfTokenizer(dir)).tokenizer as Encoder
      const memo = new Map<string, number>()
      return {
        name: dir,
        count(text: string) {
          let n = memo.get(text)
          if (n === undefined) {
            n = tok.encode(text, { add_special_tokens: false }).length
            if (memo.size < 100_000) memo.set(text, n)
          }
          return n
        },
      }
    })()
    loaded.set(dir, p)
    p.catch(() => loaded.delete(dir))
  }
  return p
}
