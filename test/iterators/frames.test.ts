import { describe, expect, test } from 'bun:test'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import sharp from 'sharp'
import { collectRows, getIterator } from '../../src/iterators/index.ts'
import { findTool, readMedia, runTool, videoFrameAt } from '../../src/media/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'

// frame_iterator against videos ffmpeg makes here: key frames, sampling, unstored frames, and memory that stays
// bounded whatever the video's length. Without ffmpeg these tests skip (the UNAVAILABLE error is tested in
// media-iterators.test.ts).

const ffmpeg = findTool('ffmpeg')
const dir = tempDir()
const run = (input: string, args: Record<string, unknown>) => collectRows(getIterator('frame_iterator').run(input, args))

async function makeVideo(name: string, spec: string, extra: string[] = []): Promise<string> {
  const out = join(dir, name)
  await runTool(ffmpeg!, ['-v', 'error', '-y', '-f', 'lavfi', '-i', spec, '-pix_fmt', 'yuv420p', ...extra, out])
  return out
}

describe.skipIf(!ffmpeg)('frame_iterator with ffmpeg', () => {
  // 5 s at 10 fps with a key frame every 20 frames: key frames at 0, 2 and 4 s.
  const video = ffmpeg ? makeVideo('gop.mp4', 'testsrc=size=160x120:rate=10:duration=5', ['-g', '20', '-keyint_min', '20', '-sc_threshold', '0']) : Promise.resolve('')

  test('keyframesOnly gives the key frames with their timestamps', async () => {
    const rows = await run(await video, { keyframesOnly: true })
    expect(rows.map((r) => [r.frame_idx, r.pos_msec])).toEqual([[0, 0], [1, 2000], [2, 4000]])
    expect(await sharp(await readMedia(rows[1]!.frame as string)).metadata()).toMatchObject({ width: 160, height: 120 })
    // Fewer than every frame: the option is not ignored.
    expect((await run(await video, {})).length).toBe(50)
  })

  test('fps and numFrames pick real frames, each with its own timestamp', async () => {
    expect((await run(await video, { fps: 2 })).map((r) => r.pos_msec)).toEqual([0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 4500])
    const four = await run(await video, { numFrames: 4 })
    expect(four.map((r) => r.pos_msec)).toEqual([0, 1300, 2500, 3800])
  })

  test('stored: false yields no image; the frame read from the video at pos_msec is the one a stored run gives', async () => {
    const unstored = await run(await video, { fps: 1, stored: false })
    expect(unstored.map((r) => r.frame)).toEqual(unstored.map(() => undefined))
    expect(unstored.map((r) => r.pos_msec)).toEqual([0, 1000, 2000, 3000, 4000])
    const stored = await run(await video, { fps: 1 })
    for (const i of [0, 3]) {
      const a = await sharp(await videoFrameAt(await video, unstored[i]!.pos_msec as number)).raw().toBuffer()
      const b = await sharp(await readMedia(stored[i]!.frame as string)).raw().toBuffer()
      expect(a.equals(b)).toBe(true)
    }
    // and a different timestamp is a different frame
    const other = await sharp(await videoFrameAt(await video, 1000)).raw().toBuffer()
    expect(other.equals(await sharp(await readMedia(stored[0]!.frame as string)).raw().toBuffer())).toBe(false)
  })

  test('options are checked by name', async () => {
    await expect(await throwing(run(await video, { keyframes: true }))).toThrow(/unknown option 'keyframes'.*'keyframesOnly'/)
    await expect(await throwing(run(await video, { keyframesOnly: true, fps: 1 }))).toThrow(/keyframesOnly .*cannot be combined with fps/)
    await expect(await throwing(run(await video, { fps: -1 }))).toThrow(/fps must be a positive number/)
    await expect(await throwing(run(await video, { numFrames: 2.5 }))).toThrow(/numFrames must be a positive integer/)
  })

  test('a file that is not a video fails with ffmpeg\'s reason', async () => {
    const bad = join(dir, 'bad.mp4')
    await Bun.write(bad, 'not a video at all')
    await expect(await throwing(run(bad, {}))).toThrow(/ffmpeg exited/)
  })

  test('a view with stored: false keeps frame_idx and pos_msec; its frame column is read from the video', async () => {
    const db = await memoryDb()
    try {
      const videos = await db.createTable('videos', { id: 'int', video: 'video' })
      await videos.insert([{ id: 1, video: await video }])
      const lazy = await db.createView('frames_lazy', videos, { iterator: { name: 'frame_iterator', input: 'video', args: { fps: 1, stored: false } } })
      const eager = await db.createView('frames_eager', videos, { iterator: { name: 'frame_iterator', input: 'video', args: { fps: 1 } } })
      expect(lazy.columns().find((c) => c.name === 'frame')).toMatchObject({ type: 'image?', computedWith: expect.stringContaining('video_frame') })
      expect((await lazy.orderBy(lazy.c.pos).select('pos_msec').collect()).rows.map((r) => r.pos_msec)).toEqual([0, 1000, 2000, 3000, 4000])
      const a = (await lazy.orderBy(lazy.c.pos).select('frame').collect()).rows
      const b = (await eager.orderBy(eager.c.pos).select('frame').collect()).rows
      expect(a.length).toBe(5)
      for (let i = 0; i < 5; i++) {
        const pa = await sharp(await readMedia(a[i]!.frame as string)).raw().toBuffer()
        const pb = await sharp(await readMedia(b[i]!.frame as string)).raw().toBuffer()
        expect(pa.equals(pb)).toBe(true)
      }
      // a filter on the stored columns reads only the frames asked for
      expect((await lazy.where(lazy.c.frame_idx.eq(2)).select('frame').collect()).rows.length).toBe(1)
      const keys = await db.createView('frames_key', videos, { iterator: { name: 'frame_iterator', input: 'video', args: { keyframesOnly: true, stored: false } } })
      expect((await keys.select('pos_msec').collect()).rows.map((r) => r.pos_msec)).toEqual([0, 2000, 4000])
      // an option the iterator does not take is refused when the view is made, even over an empty table
      const empty = await db.createTable('no_videos', { video: 'video' })
      await expect(await throwing(db.createView('frames_typo', empty, { iterator: { name: 'frame_iterator', input: 'video', args: { keyframes: true } } }))).toThrow(/unknown option 'keyframes'/)
    } finally {
      await db.close()
    }
  })

  test('memory stays bounded: every frame of a 2-minute 720p video (91 MB of PNGs) within 80 MB of RSS growth', async () => {
    const long = await makeVideo('long.mp4', 'testsrc2=size=1280x720:rate=5:duration=120', ['-preset', 'ultrafast'])
    // In a fresh process: the measurement is the iterator's, not what this test process did before.
    const r = spawnSync(process.execPath, [join(import.meta.dir, 'memory-child.ts'), 'frame_iterator', long, '{}'], { encoding: 'utf8' })
    expect(r.status).toBe(0)
    const { rows: frames, growthMb } = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { rows: number; growthMb: number }
    const pngs = (await run(long, { fps: 0.5 })).map((x) => x.frame as string)
    let bytes = 0
    for (const f of pngs) bytes += (await readMedia(f)).length * 10
    console.log(`frames ${frames}, ~${Math.round(bytes / 2 ** 20)} MB of PNG, peak RSS growth ${growthMb.toFixed(1)} MB`)
    expect(frames).toBe(600)
    // Holding the frames (as the iterator did before) would need more than the PNG bytes themselves.
    expect(bytes / 2 ** 20).toBeGreaterThan(80)
    expect(growthMb).toBeLessThan(80)
  }, 240_000)
})
