import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { closeSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { collectRows, getIterator } from '../../src/iterators/index.ts'
import { decodeWav, encodeWav, findTool, readMedia, runTool } from '../../src/media/index.ts'
import { SampleWindow, StreamResampler } from '../../src/iterators/audio-stream.ts'
import { tempDir } from '../support/db.ts'

// audio_splitter reads audio as a stream: the chunks are exactly those of cutting the whole signal, and memory
// stays bounded by a chunk, not by the file.

const dir = tempDir()
const split = (input: string, args: Record<string, unknown>) => collectRows(getIterator('audio_splitter').run(input, args))

/** A 16-bit PCM WAV written piece by piece (never whole in memory): sine bursts with silences between them. */
function writeLongWav(path: string, seconds: number, rate: number, channels: number): void {
  const n = seconds * rate
  const header = encodeWav(Array.from({ length: channels }, () => new Float32Array(0)), rate)
  const dv = new DataView(header.buffer)
  dv.setUint32(4, 36 + n * channels * 2, true)
  dv.setUint32(40, n * channels * 2, true)
  const fd = openSync(path, 'w')
  writeSync(fd, header)
  const block = rate // one second at a time
  for (let s = 0; s < seconds; s++) {
    const out = new Int16Array(block * channels)
    // 3 s of tone, 1 s of silence
    const loud = s % 4 !== 3
    for (let i = 0; i < block; i++) {
      const v = loud ? Math.round(12000 * Math.sin((2 * Math.PI * 440 * (s * block + i)) / rate)) : 0
      for (let c = 0; c < channels; c++) out[i * channels + c] = c === 0 ? v : v >> 1
    }
    writeSync(fd, new Uint8Array(out.buffer))
  }
  closeSync(fd)
}

describe('audio_splitter streams', () => {
  const wav = join(dir, 'stereo.wav')
  writeLongWav(wav, 13, 44100, 2)

  test('fixed chunks equal cutting the whole decoded signal, sample for sample, across read blocks', async () => {
    const whole = decodeWav(new Uint8Array(await Bun.file(wav).arrayBuffer()))
    for (const args of [{ chunkDurationSec: 2, overlapSec: 0.5 }, { chunkDurationSec: 13 }, { chunkDurationSec: 5, minChunkDurationSec: 3.5 }, { chunkDurationSec: 0.7, overlapSec: 0.3 }]) {
      const rows = await split(wav, args)
      // reference: the ranges the whole-signal splitter cut
      const len = args.chunkDurationSec
      const step = len - (args.overlapSec ?? 0)
      const expected: [number, number][] = []
      for (let s = 0; s < 13 - 1e-9; s += step) {
        const e = Math.min(13, s + len)
        if (e - s >= (args.minChunkDurationSec ?? 0)) expected.push([Math.round(s * 44100) / 44100, Math.round(e * 44100) / 44100])
        if (e >= 13) break
      }
      expect(rows.map((r) => [r.start_time_sec, r.end_time_sec])).toEqual(expected)
      for (const r of [rows[0]!, rows.at(-1)!]) {
        const chunk = decodeWav(await readMedia(r.audio_chunk as string))
        const a = Math.round((r.start_time_sec as number) * 44100)
        expect(chunk.channels.length).toBe(2)
        expect(chunk.channels[0]!.length).toBe(Math.round((r.end_time_sec as number) * 44100) - a)
        // 16-bit in, 16-bit out: the same samples
        const ref = whole.channels[1]!.subarray(a, a + chunk.channels[1]!.length)
        expect(chunk.channels[1]!.every((x, i) => Math.abs(x - ref[i]!) < 1e-4)).toBe(true)
      }
    }
  })

  test('silence splitting (energy) finds the tone bursts of a stream', async () => {
    const rows = await split(wav, { mode: 'silence', detector: 'energy', padSec: 0 })
    expect(rows.map((r) => Math.round(r.start_time_sec as number))).toEqual([0, 4, 8, 12])
    expect(rows.map((r) => Math.round(r.end_time_sec as number))).toEqual([3, 7, 11, 13])
  })

  test('the stream helpers: a window keeps what is still needed; resampling a stream matches resampling at once', () => {
    const w = new SampleWindow(1)
    w.append([Float32Array.from([0, 1, 2, 3])])
    w.append([Float32Array.from([4, 5])])
    expect([...w.view(1, 5)[0]!]).toEqual([1, 2, 3, 4])
    w.dropBefore(3)
    expect(w.end).toBe(6)
    expect([...w.view(3, 6)[0]!]).toEqual([3, 4, 5])
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 7))
    const r = new StreamResampler(44100, 16000)
    const parts = [r.push(x.subarray(0, 333)), r.push(x.subarray(333, 334)), r.push(x.subarray(334))]
    const joined = Float32Array.from(parts.flatMap((p) => [...p]))
    const step = 44100 / 16000
    expect(Math.abs(joined.length - Math.floor(1000 / step))).toBeLessThanOrEqual(1)
    for (let i = 0; i < joined.length - 1; i++) {
      const p = i * step
      const j = Math.floor(p)
      expect(joined[i]!).toBeCloseTo(x[j]! * (1 - (p - j)) + x[j + 1]! * (p - j), 5)
    }
  })

  test.skipIf(!findTool('ffmpeg'))('other formats stream through ffmpeg (FLAC here), mono as before', async () => {
    const flac = join(dir, 'tone.flac')
    await runTool(findTool('ffmpeg')!, ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=7:sample_rate=22050', flac])
    const rows = await split(flac, { chunkDurationSec: 3 })
    expect(rows.map((r) => [r.start_time_sec, r.end_time_sec])).toEqual([[0, 3], [3, 6], [6, 7]])
    expect(decodeWav(await readMedia(rows[1]!.audio_chunk as string))).toMatchObject({ sampleRate: 22050, durationSec: 3 })
  })

  test('memory stays bounded: 40 minutes of WAV (77 MB) in 30 s chunks within 80 MB of RSS growth (whole, it would take 220 MB)', async () => {
    const long = join(dir, 'long.wav')
    writeLongWav(long, 2400, 16000, 1)
    // Each run in a fresh process: the measurement is the splitter's, not what this test process did before.
    const measure = (args: object) => {
      const r = spawnSync(process.execPath, [join(import.meta.dir, 'memory-child.ts'), 'audio_splitter', long, JSON.stringify(args)], { encoding: 'utf8' })
      expect(r.status).toBe(0)
      return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rows: number; growthMb: number }
    }
    const fixed = measure({ chunkDurationSec: 30 })
    const silence = measure({ mode: 'silence', detector: 'energy', minSilenceSec: 0.5 })
    const chunks = fixed.rows + silence.rows
    const growthMb = Math.max(fixed.growthMb, silence.growthMb)
    console.log(`audio chunks ${chunks}, peak RSS growth ${growthMb.toFixed(1)} MB`)
    expect(chunks).toBe(80 + 600)
    // The whole file decoded would be 2400 s x 16000 x 4 bytes = 147 MB of floats, plus the file's own 77 MB.
    expect(growthMb).toBeLessThan(80)
  }, 240_000)
})
