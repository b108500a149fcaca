import { invalid } from '../errors.ts'

// WAV (RIFF) reading and writing without ffmpeg: PCM 8/16/24/32-bit integer and 32/64-bit float, including
// WAVE_FORMAT_EXTENSIBLE. Enough for uploads, synthetic test audio and the audio splitter's chunks.

export interface WavInfo {
  readonly sampleRate: number
  readonly channels: number
  readonly bitsPerSample: number
  /** 1 = integer PCM, 3 = IEEE float. */
  readonly format: number
  readonly dataOffset: number
  readonly dataBytes: number
  readonly durationSec: number
}

export interface DecodedAudio {
  readonly sampleRate: number
  /** One Float32Array per channel, samples in [-1, 1]. */
  readonly channels: readonly Float32Array[]
  readonly durationSec: number
}

/**
 * Parses the header chunks; throws INVALID_MEDIA when the file is not a WAV this reader understands. `fileSize`
 * lets a caller pass only the file's head and still get the real duration.
 */
export function wavInfo(b: Uint8Array, fileSize = b.length): WavInfo {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const tag = (at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!)
  if (b.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw invalid('INVALID_MEDIA', 'not a RIFF/WAVE file')
  let at = 12
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined
  while (at + 8 <= b.length) {
    const id = tag(at)
    const size = dv.getUint32(at + 4, true)
    if (id === 'fmt ') {
      let format = dv.getUint16(at + 8, true)
      if (format === 0xfffe && size >= 26) format = dv.getUint16(at + 8 + 24, true)
      fmt = { format, channels: dv.getUint16(at + 10, true), sampleRate: dv.getUint32(at + 12, true), bits: dv.getUint16(at + 22, true) }
    } else if (id === 'data') {
      if (!fmt) throw invalid('INVALID_MEDIA', 'WAV data chunk comes before its fmt chunk')
      if (fmt.format !== 1 && fmt.format !== 3) throw invalid('INVALID_MEDIA', `WAV sample format ${fmt.format} is not PCM or float; convert it (ffmpeg) first`)
      if (fmt.channels < 1 || fmt.sampleRate < 1 || ![8, 16, 24, 32, 64].includes(fmt.bits)) throw invalid('INVALID_MEDIA', 'WAV header has impossible values')
      const blockAlign = fmt.channels * (fmt.bits / 8)
      // Streams written before their length is known carry 0 or 0xffffffff: take what the file holds.
      const dataBytes = Math.min(size === 0 || size === 0xffffffff ? Infinity : size, Math.max(0, fileSize - at - 8))
      const frames = Math.floor(dataBytes / blockAlign)
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, bitsPerSample: fmt.bits, format: fmt.format, dataOffset: at + 8, dataBytes: frames * blockAlign, durationSec: frames / fmt.sampleRate }
    }
    at += 8 + size + (size & 1)
  }
  throw invalid('INVALID_MEDIA', 'WAV file has no data chunk')
}

export function decodeWav(b: Uint8Array): DecodedAudio {
  const info = wavInfo(b)
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  const bytes = info.bitsPerSample / 8
  const frames = info.dataBytes / (bytes * info.channels)
  const channels = Array.from({ length: info.channels }, () => new Float32Array(frames))
  const read = sampleReader(dv, info)
  let at = info.dataOffset
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < info.channels; c++) {
      channels[c]![i] = read(at)
      at += bytes
    }
  }
  return { sampleRate: info.sampleRate, channels, durationSec: info.durationSec }
}

/**
 * Decodes whole sample frames of a WAV's data chunk (a block of it, as a stream delivers them) into one
 * Float32Array per channel; the caller keeps any partial frame at the end for the next block.
 */
export function decodePcmFrames(block: Uint8Array, info: Pick<WavInfo, 'channels' | 'bitsPerSample' | 'format'>, into?: readonly Float32Array[]): Float32Array[] {
  const bytes = info.bitsPerSample / 8
  const frames = Math.floor(block.length / (bytes * info.channels))
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength)
  // `into` (reused by a stream reader, large enough) saves an allocation per block; views of it are returned.
  const channels = into && into[0]!.length >= frames ? into.map((c) => c.subarray(0, frames)) : Array.from({ length: info.channels }, () => new Float32Array(frames))
  const read = sampleReader(dv, info)
  let at = 0
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < info.channels; c++) {
      channels[c]![i] = read(at)
      at += bytes
    }
  }
  return channels
}

function sampleReader(dv: DataView, info: Pick<WavInfo, 'bitsPerSample' | 'format'>): (at: number) => number {
  if (info.format === 3) return info.bitsPerSample === 64 ? (at) => dv.getFloat64(at, true) : (at) => dv.getFloat32(at, true)
  switch (info.bitsPerSample) {
    case 8: return (at) => (dv.getUint8(at) - 128) / 128
    case 16: return (at) => dv.getInt16(at, true) / 32768
    case 24: return (at) => ((dv.getUint8(at) | (dv.getUint8(at + 1) << 8) | (dv.getInt8(at + 2) << 16)) / 8388608)
    default: return (at) => dv.getInt32(at, true) / 2147483648
  }
}

/** Averages channels into one. */
export function toMono(audio: DecodedAudio): Float32Array {
  if (audio.channels.length === 1) return audio.channels[0]!
  const n = audio.channels[0]!.length
  const out = new Float32Array(n)
  for (const ch of audio.channels) for (let i = 0; i < n; i++) out[i]! += ch[i]! / audio.channels.length
  return out
}

/** 16-bit PCM WAV of one or more channels. */
export function encodeWav(channels: readonly Float32Array[], sampleRate: number): Uint8Array {
  const n = channels[0]?.length ?? 0
  const ch = channels.length
  const out = new Uint8Array(44 + n * ch * 2)
  const dv = new DataView(out.buffer)
  const put = (at: number, s: string) => { for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i) }
  put(0, 'RIFF'); dv.setUint32(4, 36 + n * ch * 2, true); put(8, 'WAVE')
  put(12, 'fmt '); dv.setUint32(16, 16, true); dv.setUint16(20, 1, true); dv.setUint16(22, ch, true)
  dv.setUint32(24, sampleRate, true); dv.setUint32(28, sampleRate * ch * 2, true); dv.setUint16(32, ch * 2, true); dv.setUint16(34, 16, true)
  put(36, 'data'); dv.setUint32(40, n * ch * 2, true)
  let at = 44
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < ch; c++) {
      const s = Math.max(-1, Math.min(1, channels[c]![i]!))
      dv.setInt16(at, s < 0 ? s * 32768 : s * 32767, true)
      at += 2
    }
  }
  return out
}

/** Linear-interpolation resampling (good enough for voice activity detection, not for listening). */
export function resample(x: Float32Array, from: number, to: number): Float32Array {
  if (from === to) return x
  const n = Math.floor((x.length * to) / from)
  const out = new Float32Array(n)
  const step = from / to
  for (let i = 0; i < n; i++) {
    const p = i * step
    const j = Math.floor(p)
    const f = p - j
    out[i] = (x[j] ?? 0) * (1 - f) + (x[j + 1] ?? x[j] ?? 0) * f
  }
  return out
}

/** Duration from a FLAC STREAMINFO block (the first metadata block by the spec), or undefined. */
export function flacDuration(b: Uint8Array): number | undefined {
  if (b.length < 42) return undefined
  const si = 8 // 'fLaC' + 4-byte block header
  const sampleRate = (b[si + 10]! << 12) | (b[si + 11]! << 4) | (b[si + 12]! >> 4)
  const total = (b[si + 13]! & 0x0f) * 2 ** 32 + ((b[si + 14]! << 24) >>> 0) + (b[si + 15]! << 16) + (b[si + 16]! << 8) + b[si + 17]!
  return sampleRate > 0 && total > 0 ? total / sampleRate : undefined
}
