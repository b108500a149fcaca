import type { TokenCounter } from './tokens.ts'

// Text splitting shared by the string and document splitters.

/** Paragraphs: blocks separated by blank lines, trimmed, empty ones dropped. */
export function paragraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n+/).map((p) => p.trim()).filter(Boolean)
}

const ABBREV = /\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|Fig|No)\.$/i
const INITIAL = /(^|\s)[A-Z]\.$/
// Both tests look at a candidate's end only: its last TAIL characters decide them (the longest abbreviation, 'Prof.',
// and the character before it fit), so a long run of abbreviations is not re-read whole at each one.
const TAIL = 8
const SENTENCE_END = new Set(['.', '!', '?'])
const CLOSING = new Set(['"', "'", ')', ']'])
const SPACE = /\s/
const isSpace = (c: string): boolean => SPACE.test(c)

/**
 * Sentences: split after . ! ? (and their closing quotes/brackets) followed by whitespace, not after common
 * abbreviations. A scan with the matches /[.!?]+["')\]]*(?=\s+|$)/g gave; that regex went back over a run of
 * punctuation from every position in it (quadratic: 400,000 dots then 'x' took minutes).
 */
export function sentences(text: string): string[] {
  const out: string[] = []
  let start = 0
  let i = 0
  while (i < text.length) {
    if (!SENTENCE_END.has(text[i]!)) {
      i++
      continue
    }
    // A match can only end after the whole punctuation run and its closing characters, where whitespace or the
    // end of the text follows; if it does not end there, no position inside the run starts one either.
    let end = i
    while (end < text.length && SENTENCE_END.has(text[end]!)) end++
    while (end < text.length && CLOSING.has(text[end]!)) end++
    i = end
    if (end < text.length && !isSpace(text[end]!)) continue
    const tail = text.slice(Math.max(start, end - TAIL), end)
    if (ABBREV.test(tail) || INITIAL.test(tail)) continue
    const candidate = text.slice(start, end).trim()
    if (candidate) out.push(candidate)
    start = end
  }
  const rest = text.slice(start).trim()
  if (rest) out.push(rest)
  return out
}

/**
 * Splits text into pieces whose cost (characters, or tokens) stays within `limit`, cutting between words; each
 * piece after the first repeats about `overlap` of the previous one's tail. Original spacing inside a piece is kept.
 */
export function splitByBudget(text: string, limit: number, overlap: number, cost: (s: string) => number): string[] {
  return budgetPieces(text, limit, overlap, cost).map((p) => p.text)
}

/** splitByBudget's pieces with where each starts in `text` (document_splitter gives a piece the heading there). */
export function budgetPieces(text: string, limit: number, overlap: number, cost: (s: string) => number): { text: string; start: number }[] {
  const words = [...text.matchAll(/\S+/g)].flatMap((m) => hardSplit(m[0], m.index!, limit, cost))
  if (words.length === 0) return []
  const wordCost = words.map((w) => cost(w.text))
  const sep = cost === charCost ? 1 : 0
  const out: { text: string; start: number }[] = []
  let i = 0
  while (i < words.length) {
    let used = wordCost[i]!
    let j = i + 1
    while (j < words.length && used + sep + wordCost[j]! <= limit) used += sep + wordCost[j++]!
    out.push({ text: text.slice(words[i]!.start, words[j - 1]!.start + words[j - 1]!.text.length), start: words[i]!.start })
    if (j >= words.length) break
    // Step back from j while the tail stays within the overlap budget (but always move forward).
    let k = j
    let back = 0
    while (k - 1 > i && back + wordCost[k - 1]! + (back > 0 ? sep : 0) <= overlap) back += wordCost[--k]! + (back > 0 ? sep : 0)
    i = overlap > 0 ? k : j
  }
  return out
}

export const charCost = (s: string): number => s.length

export const tokenCost = (counter: TokenCounter) => (s: string): number => counter.count(s)

function hardSplit(word: string, start: number, limit: number, cost: (s: string) => number): { text: string; start: number }[] {
  if (cost(word) <= limit) return [{ text: word, start }]
  // A single word over the limit (a URL, a long number): cut it by characters.
  const out: { text: string; start: number }[] = []
  let at = 0
  while (at < word.length) {
    let end = Math.min(word.length, at + Math.max(1, limit))
    while (end > at + 1 && cost(word.slice(at, end)) > limit) end--
    out.push({ text: word.slice(at, end), start: start + at })
    at = end
  }
  return out
}
