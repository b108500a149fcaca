import { describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import { collectRows, getIterator } from '../../src/iterators/index.ts'
import { decodeWav, findTool, readMedia, resolveMedia } from '../../src/media/index.ts'
import { MODELS_DIR, modelsMissing, tempDir } from '../support/db.ts'
import { concat, png, tones, vowelSamples } from '../media/fixtures.ts'
import { encodeWav } from '../../src/media/index.ts'
import { throwing } from '../support/settle.ts'

const dir = tempDir()
const file = (name: string, body: Uint8Array | string) => {
  const p = join(dir, name)
  writeFileSync(p, body)
  return p
}
const run = (name: string, input: unknown, args: Record<string, unknown>) => collectRows(getIterator(name).run(input, args))

/**
 * Runs an iterator in a child process that cannot find ffmpeg (PATH is an empty folder, no TESSERA_FFMPEG), so the
 * missing-tool errors are tested on every machine, including CI's, which has ffmpeg. Returns the child's outcome.
 */
async function withoutFfmpeg(name: string, input: string, args: Record<string, unknown>): Promise<unknown> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), PATH: tempDir() }
  delete env.TESSERA_FFMPEG
  delete env.TESSERA_FFPROBE
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'fixtures/without-tools.ts'), name, input, JSON.stringify(args)], { env, stdout: 'pipe', stderr: 'inherit' })
  const out = await new Response(child.stdout).text()
  expect(await child.exited).toBe(0)
  return JSON.parse(out.trim().split('\n').at(-1)!)
}

describe('tile_iterator', () => {
  test('tiles with overlap cover the image row by row; edge tiles are clipped', async () => {
    const img = file('split.png', await png(100, 60, '#ff0000', { split: true }))
    const rows = await run('tile_iterator', img, { tileSize: 40, overlap: 10 })
    // x starts 0,30,60 (60+40 >= 100); y starts 0,30 (30+40 >= 60)
    expect(rows.map((r) => r.tile_box)).toEqual([[0, 0, 40, 40], [30, 0, 70, 40], [60, 0, 100, 40], [0, 30, 40, 60], [30, 30, 70, 60], [60, 30, 100, 60]])
    expect(rows.map((r) => r.tile_coord)).toEqual([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1], [2, 1]])
    const first = await sharp(await resolveMedia(rows[0]!.tile as string)).raw().toBuffer({ resolveWithObject: true })
    expect(first.info).toMatchObject({ width: 40, height: 40 })
    expect([...first.data.subarray(0, 3)]).toEqual([255, 255, 255]) // left half is white
    const last = await sharp(await resolveMedia(rows[5]!.tile as string)).raw().toBuffer({ resolveWithObject: true })
    expect(last.info).toMatchObject({ width: 40, height: 30 })
    expect([...last.data.subarray(0, 3)]).toEqual([255, 0, 0])
  })

  test.skipIf(!!modelsMissing('testdata/dog.jpg'))('a real photo in 256-px tiles', async () => {
    const rows = await run('tile_iterator', join(MODELS_DIR, 'testdata/dog.jpg'), { tileSize: [256, 256] })
    expect(rows.length).toBe(9) // 768x576 → 3 x 3, the bottom row 64 px high
    expect(rows[8]!.tile_box).toEqual([512, 512, 768, 576])
    await expect(await throwing(run('tile_iterator', join(MODELS_DIR, 'testdata/dog.jpg'), { tileSize: 10, overlap: 10 }))).toThrow(/overlap must be/)
  })
})

describe('audio_splitter', () => {
  const wav = file('tones.wav', tones([{ hz: 0, sec: 0.5 }, { hz: 440, sec: 1 }, { hz: 0, sec: 1 }, { hz: 660, sec: 1.5 }, { hz: 0, sec: 0.5 }]))

  test('fixed duration with overlap; chunks are WAV files of the right length', async () => {
    const rows = await run('audio_splitter', wav, { chunkDurationSec: 2, overlapSec: 0.5 })
    expect(rows.map((r) => [r.start_time_sec, r.end_time_sec])).toEqual([[0, 2], [1.5, 3.5], [3, 4.5]])
    const chunk = decodeWav(await readMedia(rows[1]!.audio_chunk as string))
    expect(chunk.durationSec).toBe(2)
    expect(chunk.sampleRate).toBe(16000)
  })

  test('energy detector splits tones at the silences', async () => {
    const rows = await run('audio_splitter', wav, { mode: 'silence', detector: 'energy', padSec: 0 })
    expect(rows.length).toBe(2)
    expect(rows[0]!.start_time_sec as number).toBeCloseTo(0.5, 1)
    expect(rows[0]!.end_time_sec as number).toBeCloseTo(1.5, 1)
    expect(rows[1]!.start_time_sec as number).toBeCloseTo(2.5, 1)
    expect(rows[1]!.end_time_sec as number).toBeCloseTo(4.0, 1)
  })

  test('Silero VAD finds synthetic voiced speech between silences, and ignores a pure tone', async () => {
    const sr = 16000
    const x = concat([new Float32Array(sr * 0.5), vowelSamples(1.2), new Float32Array(sr * 1), vowelSamples(0.8), new Float32Array(sr * 1)])
    const withTone = concat([x, new Float32Array(Array.from({ length: sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr))), new Float32Array(sr * 0.5)])
    const rows = await run('audio_splitter', file('speech.wav', encodeWav([withTone], sr)), { mode: 'silence', padSec: 0 })
    expect(rows.length).toBe(2)
    // speech at 0.5–1.7 s and 2.7–3.5 s; frame resolution is 32 ms, the VAD's onset/offset lag is a few frames
    expect(rows[0]!.start_time_sec as number).toBeGreaterThan(0.4)
    expect(rows[0]!.start_time_sec as number).toBeLessThan(0.9)
    expect(rows[0]!.end_time_sec as number).toBeGreaterThan(1.4)
    expect(rows[0]!.end_time_sec as number).toBeLessThan(1.9)
    expect(rows[1]!.start_time_sec as number).toBeGreaterThan(2.6)
    expect(rows[1]!.end_time_sec as number).toBeLessThan(3.8)
  }, 30_000)

  test('non-WAV audio needs ffmpeg, and says so when it is missing', async () => {
    const mp3 = file('x.mp3', new Uint8Array([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 0, 0, 0]))
    expect(await withoutFfmpeg('audio_splitter', mp3, {})).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('needs ffmpeg') })
  }, 60_000)
})

describe('frame_iterator', () => {
  test('without ffmpeg: a clear UNAVAILABLE error naming ffmpeg', async () => {
    expect(await withoutFfmpeg('frame_iterator', file('v.mp4', 'x'), { fps: 1 })).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/frame_iterator .*needs ffmpeg/) })
  }, 60_000)

  test.skipIf(!findTool('ffmpeg'))('with ffmpeg: frames of a generated test video at 2 fps', async () => {
    const { runTool } = await import('../../src/media/index.ts')
    const out = join(dir, 'gen.mp4')
    await runTool(findTool('ffmpeg')!, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=2', '-pix_fmt', 'yuv420p', out])
    const rows = await run('frame_iterator', out, { fps: 2 })
    expect(rows.length).toBe(4)
    expect(await sharp(await resolveMedia(rows[0]!.frame as string)).metadata()).toMatchObject({ width: 64, height: 48 })
    expect(rows.map((r) => r.pos_msec)).toEqual([0, 500, 1000, 1500])
  })
})
