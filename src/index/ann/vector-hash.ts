// A 128-bit hash of a vector's bytes, which tells identical vectors apart from the rest at insert (groups.ts). It is
// trusted without comparing the vectors themselves: usearch's JS binding cannot hand a stored vector back, and with
// f16 or i8 quantization it no longer holds the exact one. At 128 bits two distinct vectors of a billion-row index
// collide with a chance of about 1e-21 (vectors not crafted to collide: this is no cryptographic hash); at 64 bits
// (~3e-8 at a million rows) a collision would rank a row by another's vector without a sign.
// MurmurHash3 x86_128 (Austin Appleby, public domain) over the vector's float32 words: 32-bit arithmetic only, so
// it runs on plain numbers (Math.imul). With the node table's upkeep it cost ~1.1 µs a row at 384 dimensions (0.6
// at 16), against 40-125 µs that usearch spent adding one (100,000 random rows, f16, a loaded 2-core machine).

const C1 = 0x239b961b
const C2 = 0xab0e9789
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * Hashes words [at, at + length) of `words` (a vector's float32 bit patterns) into out[0..3]. Vectors equal in every
 * bit hash alike; +0 and -0, or two NaNs of other bits, do not (they only stay apart, as distinct vectors do).
 */
export function hashVector(words: Uint32Array, at: number, length: number, out: Uint32Array): void {
  let h1 = 0, h2 = 0, h3 = 0, h4 = 0
  const blocks = at + (length & ~3)
  let i = at
  for (; i < blocks; i += 4) {
    h1 ^= Math.imul(rotl(Math.imul(words[i]!, C1), 15), C2)
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
    h2 ^= Math.imul(rotl(Math.imul(words[i + 1]!, C2), 16), C3)
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
    h3 ^= Math.imul(rotl(Math.imul(words[i + 2]!, C3), 17), C4)
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
    h4 ^= Math.imul(rotl(Math.imul(words[i + 3]!, C4), 18), C1)
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  }
  // The last 1-3 words (the reference's tail, whole words at a time).
  const tail = at + length - i
  if (tail >= 3) h3 ^= Math.imul(rotl(Math.imul(words[i + 2]!, C3), 17), C4)
  if (tail >= 2) h2 ^= Math.imul(rotl(Math.imul(words[i + 1]!, C2), 16), C3)
  if (tail >= 1) h1 ^= Math.imul(rotl(Math.imul(words[i]!, C1), 15), C2)
  const bytes = length * 4
  h1 ^= bytes
  h2 ^= bytes
  h3 ^= bytes
  h4 ^= bytes
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  out[0] = h1
  out[1] = h2 + h1
  out[2] = h3 + h1
  out[3] = h4 + h1
}
