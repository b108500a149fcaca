import { readFile } from 'node:fs/promises'
import { currentMediaEnv, decodeWav, encodeWav, requireTool, resolveMedia, resample, runTool, sniff, toMono } from '../media/index.ts'
import type { DecodedAudio } from '../media/index.ts'
import type { IteratorRow } from './registry.ts'
import { checkOptions, optionError, registerIterator } from './registry.ts'
import { speechProbabilities, VAD_FRAME, VAD_RATE } from './vad.ts'

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

async function silenceSegments(mono: Float32Array, rate: number, durationSec: number, o: AudioSplitterOptions): Promise<[number, number][]> {
  const common = { minSilenceSec: o.minSilenceSec ?? 0.3, minSegmentSec: o.minSegmentSec ?? 0.25, padSec: o.padSec ?? 0.1, durationSec }
  if ((o.detector ?? 'vad') === 'vad') {
    const p = await speechProbabilities(resample(mono, rate, VAD_RATE))
    const th = o.threshold ?? 0.5
    return segmentsFromActivity(Array.from(p, (x) => x >= th), VAD_FRAME / VAD_RATE, common)
  }
  const frame = Math.max(1, Math.round(rate * 0.02))
  const th = 10 ** ((o.threshold ?? -40) / 20)
  const active: boolean[] = []
  for (let at = 0; at < mono.length; at += frame) {
    let sum = 0
    const end = Math.min(mono.length, at + frame)
    for (let i = at; i < end; i++) sum += mono[i]! * mono[i]!
    active.push(Math.sqrt(sum / (end - at)) >= th)
  }
  return segmentsFromActivity(active, frame / rate, common)
}

function fixedSegments(durationSec: number, o: AudioSplitterOptions): [number, number][] {
  const len = o.chunkDurationSec ?? 30
  const overlap = o.overlapSec ?? 0
  if (!(len > 0) || overlap < 0 || overlap >= len) throw optionError('audio_splitter', 'chunkDurationSec must be > 0 and overlapSec in [0, chunkDurationSec)')
  const out: [number, number][] = []
  for (let s = 0; s < durationSec - 1e-9; s += len - overlap) {
    const e = Math.min(durationSec, s + len)
    if (e - s >= (o.minChunkDurationSec ?? 0)) out.push([s, e])
    if (e >= durationSec) break
  }
  return out
}

const AUDIO_OPTIONS = ['mode', 'chunkDurationSec', 'overlapSec', 'minChunkDurationSec', 'detector', 'threshold', 'minSilenceSec', 'minSegmentSec', 'padSec']

export const audioSplitter = registerIterator<AudioSplitterOptions>({
  name: 'audio_splitter',
  input: 'audio',
  outputs: { audio_chunk: 'audio', start_time_sec: 'float', end_time_sec: 'float' },
  options: AUDIO_OPTIONS,
  async *run(input, options = {}): AsyncIterable<IteratorRow> {
    checkOptions('audio_splitter', options, AUDIO_OPTIONS)
    if (typeof input !== 'string') throw optionError('audio_splitter', `input must be an audio reference, got ${typeof input}`)
    const mode = options.mode ?? 'fixed'
    if (mode !== 'fixed' && mode !== 'silence') throw optionError('audio_splitter', `mode must be 'fixed' or 'silence', got ${JSON.stringify(mode)}`)
    const audio = await decodeAudio(input)
    const rate = audio.sampleRate
    const segs = mode === 'fixed' ? fixedSegments(audio.durationSec, options) : await silenceSegments(toMono(audio), rate, audio.durationSec, options)
    const store = currentMediaEnv().store
    let pos = 0
    for (const [s, e] of segs) {
      const a = Math.round(s * rate)
      const b = Math.round(e * rate)
      const wav = encodeWav(audio.channels.map((c) => c.subarray(a, b)), rate)
      yield { pos: pos++, audio_chunk: await store.put(wav, 'wav'), start_time_sec: a / rate, end_time_sec: b / rate }
    }
  },
})
