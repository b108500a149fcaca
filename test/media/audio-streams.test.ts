import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table, Tessera } from '../../src/index.ts'
import { TesseraError } from '../../src/index.ts'
import { findTool } from '../../src/media/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'

// An audio column checks the streams on write when ffprobe is installed: an mp4 of video alone and an mp3 cut short
// passed on their magic bytes, and audio_splitter failed on them later with "not a RIFF/WAVE file". Without ffprobe
// the magic bytes are all that is checked (README, media columns), as for video.

setDefaultTimeout(60_000)

const ffmpeg = findTool('ffmpeg')
const ffprobe = findTool('ffprobe')
const dir = tempDir()
const make = (name: string, args: string[]): string => {
  const out = join(dir, name)
  const r = spawnSync(ffmpeg!, ['-v', 'error', '-y', ...args, out])
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${name}: ${r.stderr}`)
  return out
}

let db: Tessera
let t: Table
beforeAll(async () => {
  db = await memoryDb()
  t = await db.createTable('sounds', { id: 'int', a: 'audio' })
})
afterAll(() => db.close())

const refusal = (value: string) => t.insert([{ id: 1, a: value }]).then(() => undefined, (e) => e)

describe.skipIf(!ffmpeg || !ffprobe)('audio validation with ffprobe (skipped where ffmpeg or ffprobe is not installed)', () => {
  test('a video with no audio stream is refused on write, naming row, column and the missing stream', async () => {
    const silentVideo = make('video-only.mp4', ['-f', 'lavfi', '-i', 'testsrc=duration=1:size=64x48:rate=10', '-pix_fmt', 'yuv420p'])
    const e = await refusal(silentVideo)
    expect(e).toBeInstanceOf(TesseraError)
    expect((e as TesseraError).code).toBe('INVALID_MEDIA')
    expect((e as Error).message).toMatch(/row 0, column 'a': .*video-only\.mp4 is not a valid audio: ffprobe finds no audio stream/)
    expect(await t.count()).toBe(0)
  })

  test('an mp3 cut short is refused as truncated; the whole one and an mp4 with sound are taken', async () => {
    const mp3 = make('tone.mp3', ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=3', '-c:a', 'libmp3lame', '-b:a', '64k'])
    const cut = join(dir, 'cut.mp3')
    const bytes = readFileSync(mp3)
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.3)))
    const e = await refusal(cut)
    expect((e as TesseraError).code).toBe('INVALID_MEDIA')
    expect((e as Error).message).toMatch(/column 'a': .*cut\.mp3 is not a valid audio: truncated: its header declares 3\.\d\d s, the file holds audio up to 0\.\d\d s/)

    const withSound = make('with-sound.mp4', ['-f', 'lavfi', '-i', 'sine=frequency=300:duration=1', '-c:a', 'aac'])
    await t.insert([{ id: 1, a: mp3 }, { id: 2, a: withSound }])
    expect(await t.count()).toBe(2)
  })
})
