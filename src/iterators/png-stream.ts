// Splits a stream of concatenated PNG files (ffmpeg's image2pipe) into one PNG at a time, holding only the PNG
// being read: memory is bounded by one frame, not by the length of the video. PNGs are walked chunk by chunk
// (length, type, data, CRC) up to IEND, so image bytes that happen to spell "IEND" cannot cut a frame short.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

export async function* splitPngStream(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let buf = new Uint8Array(1 << 20)
  let len = 0
  // Offset of the next chunk header inside the current PNG (8 = just after the signature).
  let cursor = 8
  for await (const chunk of chunks) {
    if (len + chunk.length > buf.length) {
      const grown = new Uint8Array(Math.max(buf.length * 2, len + chunk.length))
      grown.set(buf.subarray(0, len))
      buf = grown
    }
    buf.set(chunk, len)
    len += chunk.length
    for (;;) {
      if (len < 8) break
      if (cursor === 8 && !SIGNATURE.every((b, i) => buf[i] === b)) throw new Error('the video decoder produced something other than PNG frames')
      if (cursor + 8 > len) break
      const size = ((buf[cursor]! << 24) >>> 0) + (buf[cursor + 1]! << 16) + (buf[cursor + 2]! << 8) + buf[cursor + 3]!
      const end = cursor + 12 + size
      if (end > len) break
      const isEnd = buf[cursor + 4] === 0x49 && buf[cursor + 5] === 0x45 && buf[cursor + 6] === 0x4e && buf[cursor + 7] === 0x44
      cursor = end
      if (!isEnd) continue
      const png = buf.slice(0, end)
      buf.copyWithin(0, end, len)
      len -= end
      cursor = 8
      yield png
    }
  }
  if (len > 0) throw new Error(`the video decoder stopped in the middle of a frame (${len} bytes left over)`)
}
