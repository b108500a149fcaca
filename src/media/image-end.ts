import { open } from 'node:fs/promises'

// Whether an image file ends where its format says it ends: a JPEG with its EOI marker, a PNG with its IEND chunk, a
// GIF with its trailer byte, a WebP as long as its RIFF header says. sharp's metadata() reads only the header, so a
// file cut short (an interrupted upload or copy) passed the write check and failed later in every computed column;
// a full decode catches it too, but cost 12-20 ms a 0.4-1.2 MP photo and 135-280 ms a 4000×3000 one (against 0.3-0.9 ms
// for metadata() on a loaded 2-core machine), where reading the last bytes costs a fraction of a millisecond. A file
// whose marker is missing is then decoded, which decides (see checkMediaFile).

const TAIL_BYTES = 64
const PNG_IEND = [0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82] // 'IEND' and its CRC

/**
 * true: the file's end marker is there; false: it is missing (cut short, or other bytes follow it); undefined: the
 * format (sharp's name) has no marker read here (tiff, heif, svg, …), so only a decode can tell.
 */
export async function imageEndPresent(file: string, format: string): Promise<boolean | undefined> {
  if (format !== 'jpeg' && format !== 'png' && format !== 'gif' && format !== 'webp') return undefined
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    if (format === 'webp') {
      // RIFF: bytes 4-7 are the little-endian length of what follows the first 8 bytes (padded to even).
      const head = new Uint8Array(8)
      await fh.read(head, 0, 8, 0)
      const riffSize = new DataView(head.buffer).getUint32(4, true)
      return size >= riffSize + 8
    }
    const n = Math.min(TAIL_BYTES, size)
    const tail = new Uint8Array(n)
    await fh.read(tail, 0, n, size - n)
    if (format === 'gif') return tail[n - 1] === 0x3b
    if (format === 'png') return n >= PNG_IEND.length && PNG_IEND.every((b, i) => tail[n - PNG_IEND.length + i] === b)
    // JPEG: EOI (FF D9) at the end; some writers pad after it with zeros or 0xFF, which is allowed for here.
    let end = n
    while (end > 0 && (tail[end - 1] === 0x00 || tail[end - 1] === 0xff)) end--
    return end >= 2 && tail[end - 2] === 0xff && tail[end - 1] === 0xd9
  } finally {
    await fh.close()
  }
}
