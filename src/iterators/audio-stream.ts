import { createReadStream } from 'node:fs'
import { open, stat } from 'node:fs/promises'
import { decodePcmFrames, requireTool, resolveMedia, sniff, streamTool, wavInfo } from '../media/index.ts'
import type { WavInfo } from '../media/index.ts'

// Audio read as a stream of sample blocks, so splitting an hour of audio holds seconds of it, not the hour. A WAV file
// is read from disk in pieces; anything else is decoded by ffmpeg into a WAV stream (mono float, as before) and read
// from its stdout the same way. Both become: the header, then whole sample frames per block, one array per channel.

export interface AudioStream {
  readonly sampleRate: number
  readonly channelCount: number
  /** Blocks of samples, one Float32Array per channel, in order; a block's arrays are reused for the next one. */
  readonly blocks: AsyncIterable<Float32Array[]>
  /** Stops reading (ffmpeg is ended); safe to call twice. */
  close(): void
}

const HEADER_MAX = 1 << 20

export async function openAudioStream(ref: string): Promise<AudioStream> {
  const file = await resolveMedia(ref)
  const head = new Uint8Array(64)
  const fh = await open(file, 'r')
  try {
    await fh.read(head, 0, 64, 0)
  } finally {
    await fh.close()
  }
  const kind = sniff(head)?.ext
  if (kind === 'wav') return fromWavBytes(createReadStream(file, { highWaterMark: 1 << 18 }), (await stat(file)).size, () => undefined)
  const ffmpeg = requireTool('ffmpeg', `decoding ${kind ?? 'this'} audio (only WAV is decoded without it)`)
  const tool = streamTool(ffmpeg, ['-v', 'error', '-i', file, '-f', 'wav', '-acodec', 'pcm_f32le', '-ac', '1', '-'])
  const stream = await fromWavBytes(tool.stdout, Infinity, () => tool.kill(), tool.done)
  return stream
}

/** Parses a WAV byte stream: the header first (held until complete), then sample frames as they come. */
async function fromWavBytes(bytes: AsyncIterable<Uint8Array>, size: number, stop: () => void, done?: Promise<void>): Promise<AudioStream> {
  const it = bytes[Symbol.asyncIterator]()
  let head: Uint8Array = new Uint8Array(0)
  let info: WavInfo | undefined
  for (;;) {
    const r = await it.next()
    if (!r.done) head = concat(head, r.value)
    try {
      info = wavInfo(head, size === Infinity ? Number.MAX_SAFE_INTEGER : size)
      break
    } catch (e) {
      // An incomplete header reads as "no data chunk": wait for more, up to a bound.
      if (r.done || head.length > HEADER_MAX) {
        stop()
        await done
        throw e
      }
    }
  }
  const wav = info
  const frameBytes = wav.channels * (wav.bitsPerSample / 8)
  let remaining = size === Infinity ? Infinity : wav.dataBytes
  let scratch: Float32Array[] = []
  async function* blocks(): AsyncGenerator<Float32Array[]> {
    try {
      let carry: Uint8Array = head.subarray(wav.dataOffset)
      for (;;) {
        // Trailing chunks after the data (LIST, id3) are not audio.
        if (carry.length > remaining) carry = carry.subarray(0, remaining)
        const whole = carry.length - (carry.length % frameBytes)
        if (whole > 0) {
          remaining -= whole
          if ((scratch[0]?.length ?? 0) < whole / frameBytes) scratch = Array.from({ length: wav.channels }, () => new Float32Array(whole / frameBytes))
          yield decodePcmFrames(carry.subarray(0, whole), wav, scratch)
          carry = carry.slice(whole)
        }
        if (remaining <= 0) break
        const r = await it.next()
        if (r.done) break
        carry = carry.length ? concat(carry, r.value) : r.value
      }
      await done
    } finally {
      stop()
      await it.return?.()
    }
  }
  return { sampleRate: wav.sampleRate, channelCount: wav.channels, blocks: blocks(), close: stop }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/**
 * The samples from some absolute position on, per channel: a stream's blocks are appended, cut ranges are copied
 * out, and everything before the earliest position still needed is dropped.
 */
export class SampleWindow {
  /** Absolute index of the first sample held. */
  #start = 0
  #length = 0
  #channels: Float32Array[]

  constructor(channelCount: number) {
    this.#channels = Array.from({ length: channelCount }, () => new Float32Array(1 << 16))
  }

  /** Absolute index one past the last sample received. */
  get end(): number {
    return this.#start + this.#length
  }

  append(block: readonly Float32Array[]): void {
    const n = block[0]?.length ?? 0
    if (this.#length + n > this.#channels[0]!.length) {
      const size = Math.max(this.#channels[0]!.length * 2, this.#length + n)
      this.#channels = this.#channels.map((c) => {
        const grown = new Float32Array(size)
        grown.set(c.subarray(0, this.#length))
        return grown
      })
    }
    this.#channels.forEach((c, i) => c.set(block[i]!, this.#length))
    this.#length += n
  }

  /** Views of [from, to) per channel (absolute indexes, within what is held), valid until the next append or drop. */
  view(from: number, to: number): Float32Array[] {
    const a = Math.max(0, from - this.#start)
    const b = Math.max(a, Math.min(this.#length, to - this.#start))
    return this.#channels.map((c) => c.subarray(a, b))
  }

  /** Forgets samples before `at`. */
  dropBefore(at: number): void {
    const k = Math.min(this.#length, Math.max(0, at - this.#start))
    if (k === 0) return
    for (const c of this.#channels) c.copyWithin(0, k, this.#length)
    this.#start += k
    this.#length -= k
  }
}

/** Linear-interpolation resampling of a stream, block by block (for voice activity detection). */
export class StreamResampler {
  readonly #step: number
  /** Position of the next output sample, in input samples relative to the start of `#prev`'s last sample. */
  #pos = 0
  #last: number | undefined

  constructor(from: number, to: number) {
    this.#step = from / to
  }

  push(x: Float32Array): Float32Array {
    if (x.length === 0) return x
    // Input indexes: -1 is the previous block's last sample (when there is one), 0.. this block.
    const at = (i: number) => (i < 0 ? this.#last ?? x[0]! : x[Math.min(i, x.length - 1)]!)
    const out: number[] = []
    let p = this.#pos
    while (p <= x.length - 1) {
      const j = Math.floor(p)
      const f = p - j
      out.push(at(j) * (1 - f) + at(j + 1) * f)
      p += this.#step
    }
    this.#pos = p - x.length
    this.#last = x[x.length - 1]
    return Float32Array.from(out)
  }
}
