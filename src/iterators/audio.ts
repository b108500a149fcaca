import { readFile } from 'node:fs/promises'
import { currentMediaEnv, decodeWav, encodeWav, requireTool, resolveMedia, runTool, sniff } from '../media/index.ts'
import type { DecodedAudio } from '../media/index.ts'
import type { IteratorRow } from './registry.ts'
import { optionError, registerIterator } from './registry.ts'
import { finiteNumber, nonNegativeNumber, oneOf, positiveNumber, readOptions, refuseOutside } from './options.ts'
import { VadStream, VAD_FRAME, VAD_RATE } from './vad.ts'
import { openAudioStream, SampleWindow, StreamResampler } from './audio-stream.ts'

// audio_splitter: an audio file into chunks, either of fixed duration (with overlap) or at silences. Silence is
// found by the Silero VAD (speech vs. anything else, the default) or by signal energy (any sound vs. quiet; use it
// for music or tones). WAV is decoded here; other formats go through ffmpeg when it is installed.

export interface AudioSplitterOptions {
  /** 'fixed' (default) or 'silence'. */
  readonly mode?: 'fixed' | 'silence'
  /** fixed: chunk length in seconds (default 30). */
  readonly chunkDurationSec?: number
  /** fixed: seconds shared by consecutive chunks (default 0). */
  readonly overlapSec?: number
  /** fixed: a last chunk shorter than this is dropped (default 0: kept). */
  readonly minChunkDurationSec?: number
  /** silence: 'vad' (default) or 'energy'. */
  readonly detector?: 'vad' | 'energy'
  /** silence: VAD speech probability (default 0.5), or energy threshold in dBFS (default -40). */
  readonly threshold?: number
  /** silence: a pause at least this long ends a segment (default 0.3 s). */
  readonly minSilenceSec?: number
  /** silence: segments shorter than this are dropped (default 0.25 s). */
  readonly minSegmentSec?: number
  /** silence: seconds of context kept on each side of a segment (default 0.1). */
  readonly padSec?: number
}

/** The whole file decoded in memory (previews, tests); the splitter itself reads a stream (audio-stream.ts). */
export async function decodeAudio(ref: string): Promise<DecodedAudio> {
  const file = await resolveMedia(ref)
  const bytes = new Uint8Array(await readFile(file))
  if (sniff(bytes.subarray(0, 64))?.ext === 'wav') return decodeWav(bytes)
  const ffmpeg = requireTool('ffmpeg', `decoding ${sniff(bytes.subarray(0, 64))?.ext ?? 'this'} audio (only WAV is decoded without it)`)
  return decodeWav(await runTool(ffmpeg, ['-v', 'error', '-i', file, '-f', 'wav', '-acodec', 'pcm_f32le', '-ac', '1', '-']))
}

/** [start, end) sample ranges of sound, from per-frame activity. */
export function segmentsFromActivity(active: ArrayLike<boolean>, frameSec: number, o: { minSilenceSec: number; minSegmentSec: number; padSec: number; durationSec: number }): [number, number][] {
  const out: [number, number][] = []
  let start = -1
  let silent = 0
  const gap = Math.max(1, Math.round(o.minSilenceSec / frameSec))
  for (let f = 0; f <= active.length; f++) {
    const on = f < active.length && active[f]
    if (on) {
      if (start < 0) start = f
      silent = 0
    } else if (start >= 0 && (++silent >= gap || f === active.length)) {
      const end = f - silent + 1
      if ((end - start) * frameSec >= o.minSegmentSec) out.push([start * frameSec, end * frameSec])
      start = -1
      silent = 0
    }
  }
  return out.map(([s, e]) => [Math.max(0, s - o.padSec), Math.min(o.durationSec, e + o.padSec)])
}

/**
 * Pass one of silence splitting: reads the audio as a stream and finds where the sound is (per-frame activity is a
 * few bytes per 20-32 ms, so an hour of audio is kept as ~100k booleans, not as samples).
 */
async function silenceSegments(ref: string, o: AudioSplitterOptions): Promise<{ segs: [number, number][]; rate: number }> {
  const audio = await openAudioStream(ref)
  const rate = audio.sampleRate
  const vad = (o.detector ?? 'vad') === 'vad'
  const active: boolean[] = []
  let samples = 0
  const mono = (block: Float32Array[]): Float32Array => {
    if (block.length === 1) return block[0]!
    const out = new Float32Array(block[0]!.length)
    for (const ch of block) for (let i = 0; i < out.length; i++) out[i]! += ch[i]! / block.length
    return out
  }
  try {
    if (vad) {
      const th = o.threshold ?? 0.5
      const stream = new VadStream()
      const resampler = new StreamResampler(rate, VAD_RATE)
      for await (const block of audio.blocks) {
        samples += block[0]!.length
        for (const p of await stream.push(resampler.push(mono(block)))) active.push(p >= th)
      }
      for (const p of await stream.end()) active.push(p >= th)
    } else {
      const frame = Math.max(1, Math.round(rate * 0.02))
      const th = 10 ** ((o.threshold ?? -40) / 20)
      let sum = 0
      let n = 0
      for await (const block of audio.blocks) {
        const m = mono(block)
        samples += m.length
        for (let i = 0; i < m.length; i++) {
          sum += m[i]! * m[i]!
          if (++n === frame) {
            active.push(Math.sqrt(sum / n) >= th)
            sum = 0
            n = 0
          }
        }
      }
      if (n > 0) active.push(Math.sqrt(sum / n) >= th)
    }
  } finally {
    audio.close()
  }
  const frameSec = vad ? VAD_FRAME / VAD_RATE : Math.max(1, Math.round(rate * 0.02)) / rate
  const common = { minSilenceSec: o.minSilenceSec ?? 0.3, minSegmentSec: o.minSegmentSec ?? 0.25, padSec: o.padSec ?? 0.1, durationSec: samples / rate }
  return { segs: segmentsFromActivity(active, frameSec, common), rate }
}

/**
 * Fixed-length chunks cut from the stream as their samples arrive (the window holds one chunk plus a block); the
 * same ranges as cutting the whole signal: starts at k * (len - overlap), the last chunk shorter, dropped under
 * minChunkDurationSec.
 */
async function* fixedChunks(ref: string, o: AudioSplitterOptions): AsyncGenerator<{ a: number; b: number; rate: number; channels: Float32Array[] }> {
  const len = o.chunkDurationSec ?? DEFAULT_CHUNK_SEC
  const overlap = o.overlapSec ?? 0
  const minLen = o.minChunkDurationSec ?? 0
  const audio = await openAudioStream(ref)
  const rate = audio.sampleRate
  // Chunk k starts at round(k * step * rate): a step under one sample would start thousands of empty or repeated
  // chunks per sample, which for a tiny step is a loop that practically never ends.
  if (!((len - overlap) * rate >= 1)) {
    audio.close()
    throw optionError(NAME, `chunkDurationSec - overlapSec must be at least one sample (${1 / rate} s at ${rate} Hz), got ${len - overlap} s`)
  }
  const range = (k: number): [number, number] => [Math.round(k * (len - overlap) * rate), Math.round((k * (len - overlap) + len) * rate)]
  const win = new SampleWindow(audio.channelCount)
  let k = 0
  let lastEnd = -1
  try {
    for await (const block of audio.blocks) {
      win.append(block)
      for (let [a, b] = range(k); b <= win.end; [a, b] = range(++k)) {
        // The consumer encodes the chunk before this generator resumes, so views need no copy.
        if (len >= minLen) yield { a, b, rate, channels: win.view(a, b) }
        lastEnd = b
        win.dropBefore(range(k + 1)[0])
      }
    }
  } finally {
    audio.close()
  }
  // The stream's end is known now: the chunks that reach it.
  const total = win.end
  const dur = total / rate
  if (lastEnd === total) return
  for (; ; k++) {
    const s = k * (len - overlap)
    if (s >= dur - 1e-9) return
    const e = Math.min(dur, s + len)
    const [a, b] = [Math.round(s * rate), Math.round(e * rate)]
    if (e - s >= minLen) yield { a, b, rate, channels: win.view(a, b) }
    if (e >= dur) return
  }
}

/** Pass two of silence splitting: the segments' samples, cut from a second read of the stream. */
async function* segmentChunks(ref: string, segs: readonly [number, number][]): AsyncGenerator<{ a: number; b: number; rate: number; channels: Float32Array[] }> {
  if (segs.length === 0) return
  const audio = await openAudioStream(ref)
  const rate = audio.sampleRate
  const ranges = segs.map(([s, e]) => [Math.round(s * rate), Math.round(e * rate)] as const)
  const win = new SampleWindow(audio.channelCount)
  let i = 0
  try {
    for await (const block of audio.blocks) {
      win.append(block)
      for (; i < ranges.length && ranges[i]![1] <= win.end; i++) yield { a: ranges[i]![0], b: ranges[i]![1], rate, channels: win.view(ranges[i]![0], ranges[i]![1]) }
      // Segments come in order (padded ones may overlap the previous one): keep from the next one's start.
      win.dropBefore(i < ranges.length ? ranges[i]![0] : win.end)
    }
  } finally {
    audio.close()
  }
  for (; i < ranges.length; i++) yield { a: ranges[i]![0], b: Math.min(ranges[i]![1], win.end), rate, channels: win.view(ranges[i]![0], ranges[i]![1]) }
}

const NAME = 'audio_splitter'
const DEFAULT_CHUNK_SEC = 30
const FIXED_OPTIONS = ['chunkDurationSec', 'overlapSec', 'minChunkDurationSec']
const SILENCE_OPTIONS = ['detector', 'threshold', 'minSilenceSec', 'minSegmentSec', 'padSec']
const RULES = {
  mode: oneOf('fixed', 'silence'),
  chunkDurationSec: positiveNumber,
  overlapSec: nonNegativeNumber,
  minChunkDurationSec: nonNegativeNumber,
  detector: oneOf('vad', 'energy'),
  threshold: finiteNumber,
  minSilenceSec: nonNegativeNumber,
  minSegmentSec: nonNegativeNumber,
  padSec: nonNegativeNumber,
}

/** Types and ranges per option, then the combinations: overlap within the chunk, options of the mode in use. */
export function checkAudioOptions(options: unknown): void {
  const o = readOptions<AudioSplitterOptions>(NAME, options, RULES)
  if ((o.mode ?? 'fixed') === 'fixed') {
    refuseOutside(NAME, o as Record<string, unknown>, SILENCE_OPTIONS, "with mode: 'silence'")
    const len = o.chunkDurationSec ?? DEFAULT_CHUNK_SEC
    if ((o.overlapSec ?? 0) >= len) throw optionError(NAME, `overlapSec must be smaller than chunkDurationSec (${len}), got ${o.overlapSec}`)
  } else {
    refuseOutside(NAME, o as Record<string, unknown>, FIXED_OPTIONS, "with mode: 'fixed'")
    // The VAD's threshold is a speech probability; the energy detector's is a level in dBFS.
    if ((o.detector ?? 'vad') === 'vad' && o.threshold !== undefined && !(o.threshold >= 0 && o.threshold <= 1)) throw optionError(NAME, `threshold must be a speech probability from 0 to 1 with detector 'vad', got ${o.threshold}`)
  }
}

export const audioSplitter = registerIterator<AudioSplitterOptions>({
  name: NAME,
  input: 'audio',
  outputs: { audio_chunk: 'audio', start_time_sec: 'float', end_time_sec: 'float' },
  options: Object.keys(RULES),
  check: checkAudioOptions,
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    if (typeof input !== 'string') throw optionError(NAME, `input must be an audio reference, got ${typeof input}`)
    const chunks = (options.mode ?? 'fixed') === 'fixed' ? fixedChunks(input, options) : segmentChunks(input, (await silenceSegments(input, options)).segs)
    const store = currentMediaEnv().store
    let pos = 0
    for await (const { a, b, rate, channels } of chunks) {
      yield { pos: pos++, audio_chunk: await store.put(encodeWav(channels, rate), 'wav'), start_time_sec: a / rate, end_time_sec: b / rate }
    }
  },
})
