// The Range header of a GET for a file (RFC 9110 §14): what lets a browser seek in a long video or audio file without
// fetching it from the start. One range is served; a header asking for several, or one this does not read, is
// answered with the whole file (which the RFC allows).

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number
  /** Last byte, inclusive. */
  readonly end: number
}

/**
 * The range `header` asks for in a file of `size` bytes: a ByteRange, 'unsatisfiable' (416: it starts past the end,
 * or asks for the last 0 bytes), or undefined when the whole file is to be sent (no header, several ranges, another
 * unit, a malformed one).
 */
export function byteRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header ?? '')
  if (!m || (m[1] === '' && m[2] === '')) return undefined
  // Longer than any file offset: read as a number it would lose digits, so such a header is not read at all.
  if (m[1]!.length > 15 || m[2]!.length > 15) return undefined
  if (m[1] === '') {
    // bytes=-N: the last N bytes.
    const n = Number(m[2])
    if (n === 0 || size === 0) return 'unsatisfiable'
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(m[1])
  const end = m[2] === '' ? Infinity : Number(m[2])
  if (end < start) return undefined
  if (start >= size) return 'unsatisfiable'
  return { start, end: Math.min(end, size - 1) }
}
