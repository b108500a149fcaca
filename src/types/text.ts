// Text the store can hold. PostgreSQL text and jsonb cannot hold U+0000 (the store refused it with "invalid byte
// sequence for encoding UTF8: 0x00", naming no row or column), and a lone UTF-16 surrogate is not Unicode at all:
// its UTF-8 encoding silently became U+FFFD, or jsonb refused the document. Values are checked here, before the
// store, so the error names the row and column and nothing is changed silently.

// String.prototype.isWellFormed (ES2024; Bun, Deno and Node 20+ have it) is outside this project's ES2023 lib.
type WellFormed = { isWellFormed(): boolean }

/**
 * True when the store holds `s` unchanged: no U+0000 and no lone surrogate. On the insert hot path (every string
 * cell): two native scans, and a Latin-1 string (most text) is well formed without a scan.
 */
export function isStorableText(s: string): boolean {
  return s.indexOf('\u0000') === -1 && (s as unknown as WellFormed).isWellFormed()
}

/** Why `s` cannot be stored as text, naming the character and where it is, or undefined when it can. */
export function textProblem(s: string): string | undefined {
  const nul = s.indexOf('\u0000')
  if (nul !== -1) return `contains U+0000 (NUL) at character ${nul}, which PostgreSQL text and json cannot hold`
  if ((s as unknown as WellFormed).isWellFormed()) return undefined
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0xd800 || c > 0xdfff) continue
    if (c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++
        continue
      }
    }
    return `contains a lone UTF-16 surrogate (U+${c.toString(16).toUpperCase()}) at character ${i}, which is not valid Unicode`
  }
  return undefined
}
