import { expect, test } from 'bun:test'
import { currentCaller, withCaller } from '../../src/ai/index.ts'
import { currentColumnAuthor, withColumnAuthor } from '../../src/catalog/author.ts'
import { commonPrefixes, pathUnder } from '../../src/media/index.ts'
import type { AuthorLimits } from '../../src/media/index.ts'

// A column runs within both its author's table scopes and its current caller's. What both may read is one
// intersection, whichever side holds the narrower scope: a caller scoped to 'a' running a column its author (scoped
// to 'a/b') defined may read 'a/b', and a column defined from there keeps 'a/b'. The caller's list used to be filtered
// by the author's alone, which left nothing when the author's scope was the narrower one.

const author: AuthorLimits = { who: "token 'narrow'", localRoots: 'any', privateUrls: true, readable: ['a/b'] }
const caller = (readable: string[]) => ({ name: `token '${readable.join(',')}'`, canRead: (p: string) => readable.some((r) => pathUnder(p, r)), readable })

test('commonPrefixes is symmetric and keeps the narrower scope of each pair', () => {
  expect(commonPrefixes(['a'], ['a/b'])).toEqual(['a/b'])
  expect(commonPrefixes(['a/b'], ['a'])).toEqual(['a/b'])
  expect([...commonPrefixes(['a', 'c/d'], ['a/b', 'c', 'e'])!].sort()).toEqual(['a/b', 'c/d'])
  expect(commonPrefixes(['a'], ['b'])).toEqual([])
  expect(commonPrefixes(undefined, ['a'])).toEqual(['a'])
  expect(commonPrefixes([''], ['x/y'])).toEqual(['x/y'])
})

test('a caller wider than the column author reads what the author could, and a column defined there keeps it', () => {
  const seen = withCaller(caller(['a']), () => withColumnAuthor(author, "column 'c'", () => {
    const c = currentCaller()!
    return { readable: c.readable, canRead: ['a/b/t', 'a/c', 'a/b'].map((p) => c.canRead(p)), defines: currentColumnAuthor()?.readable }
  }))
  expect(seen).toEqual({ readable: ['a/b'], canRead: [true, false, true], defines: ['a/b'] })
})

test('a caller narrower than the column author keeps its own scope', () => {
  const wide: AuthorLimits = { ...author, readable: ['a'] }
  const seen = withCaller(caller(['a/b']), () => withColumnAuthor(wide, "column 'c'", () => currentCaller()!.readable))
  expect(seen).toEqual(['a/b'])
})
