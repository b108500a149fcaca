import { closeSync, openSync, readSync, statSync } from 'node:fs'
import { crc32 } from 'node:zlib'

// A saved native index file is verified before usearch reads it. usearch trusts its files: a damaged one (flipped,
// random or shuffled bytes) loads, and then a search follows neighbour ids out of its graph and crashes the whole
// process with a segmentation fault, or (vectors shuffled) answers wrong rows without a sign. So its note records
// the file's length and CRC-32 when it is saved, and a file that does not match is never handed to usearch: it is
// rebuilt from the table (manager.ts). At 100,000 × 384 f16 (a 92 MB file) the check read and summed the file in
// 30–60 ms against usearch's 540–830 ms load (this machine, file in the page cache): 1 MB reads, zlib's CRC-32.

/** A file's length and CRC-32 (zlib's, as `crc32` tools and Python's zlib.crc32 compute it). */
export interface FileCheck {
  readonly bytes: number
  readonly crc32: number
}

const CHUNK = 1 << 20

/** Reads the file a chunk at a time (never all of it in memory) and sums it. */
export function fileCheck(path: string): FileCheck {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.allocUnsafe(CHUNK)
    let crc = 0
    let bytes = 0
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null)
      if (n <= 0) break
      crc = crc32(buf.subarray(0, n), crc)
      bytes += n
    }
    return { bytes, crc32: crc }
  } finally {
    closeSync(fd)
  }
}

/** Whether `x` is a file check as a note records it (notes are read from disk: anything may be there). */
export function isFileCheck(x: unknown): x is FileCheck {
  const c = x as FileCheck | null | undefined
  return typeof c === 'object' && c !== null && Number.isSafeInteger(c.bytes) && c.bytes >= 0 && Number.isInteger(c.crc32) && c.crc32 >= 0 && c.crc32 < 2 ** 32
}

const hex = (n: number): string => n.toString(16).padStart(8, '0')

/** Why the file at `path` is not the one `expected` describes (missing, another length, another sum), or undefined when it is. */
export function verifyFile(path: string, expected: FileCheck): string | undefined {
  if (!isFileCheck(expected)) return 'its note records no valid length and checksum'
  let size: number
  try {
    size = statSync(path).size
  } catch {
    return 'the file is missing'
  }
  if (size !== expected.bytes) return `the file has ${size} bytes where its note says ${expected.bytes}`
  let actual: FileCheck
  try {
    actual = fileCheck(path)
  } catch (e) {
    return `the file cannot be read: ${e instanceof Error ? e.message : String(e)}`
  }
  if (actual.bytes !== expected.bytes) return `the file has ${actual.bytes} bytes where its note says ${expected.bytes}`
  if (actual.crc32 !== expected.crc32) return `the file's CRC-32 is ${hex(actual.crc32)} where its note says ${hex(expected.crc32)}`
  return undefined
}
