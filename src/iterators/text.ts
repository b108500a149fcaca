import type { TokenCounter } from './tokens.ts'

// Text splitting shared by the string and document splitters.

/** Paragraphs: blocks separated by blank lines, trimmed, empty ones dropped. */
export function paragraphs(text: string): string[] {
  return text.split(/\n[ \t]*\n+/).map((p) => p.trim()).filter(Boolean)
}

const ABBREV = /\b(?:Mr|Mrs|Ms|Dr|Prof|Sr|Jr|St|vs|etc|e\.g|i\.e|Fig|No)\.$/i

/** Sentences: split after . ! ? (and their closing quotes/brackets) followed by whitespace, not after common abbreviations. */
export function sentences(text: string): string[] {
  const out: string[] = []
  const re = /[.!?]+["')\]]*(?=\s+|$)/g
  let start = 0
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const end = m.index + m[0].length
    const candidate = text.slice(start, end)
    if (ABBREV.test(candidate) || /(^|\s)[A-Z]\.$/.test(candidate)) continue
    if (candidate.trim()) out.push(candidate.trim())
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
  const words = [...text.matchAll(/\S+/g)].flatMap((m) => hardSplit(m[0], m.index!, limit, cost))
  if (words.length === 0) return []
  const wordCost = words.map((w) => cost(w.text))
  const sep = cost === charCost ? 1 : 0
  const out: string[] = []
  let i = 0
  while (i < words.length) {
    let used = wordCost[i]!
    let j = i + 1
    while (j < words.length && used + sep + wordCost[j]! <= limit) used += sep + wordCost[j++]!
    out.push(text.slice(words[i]!.start, words[j - 1]!.start + words[j - 1]!.text.length))
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
