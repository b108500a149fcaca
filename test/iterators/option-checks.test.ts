import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import sharp from 'sharp'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { collectRows, getIterator } from '../../src/iterators/index.ts'
import { tileBands, tileStarts } from '../../src/iterators/tiles.ts'
import { resolveMedia } from '../../src/media/index.ts'
import { memoryDb, tempDir } from '../support/db.ts'
import { jsonCaller } from '../support/http.ts'
import { png, tones } from '../media/fixtures.ts'

// Iterator options come as JSON from anywhere: a value of the wrong type or range must be refused when the view is
// made (naming the iterator and the option), never coerced into wrong rows or a step that never advances.

const dir = tempDir()
const file = (name: string, body: Uint8Array | string) => {
  const p = join(dir, name)
  writeFileSync(p, body)
  return p
}

/** [iterator, input type, args, the option the error must name]. */
const BAD: [string, string, Record<string, unknown>, string][] = [
  ['tile_iterator', 'image', { tileSize: 64, overlap: '1' }, 'overlap'],
  ['tile_iterator', 'image', { tileSize: 64, overlap: [1] }, 'overlap'],
  ['tile_iterator', 'image', { tileSize: '64' }, 'tileSize'],
  ['tile_iterator', 'image', { tileSize: [64, '64'] }, 'tileSize'],
  ['tile_iterator', 'image', { tileSize: 1.5 }, 'tileSize'],
  ['tile_iterator', 'image', { tileSize: null }, 'tileSize'],
  ['tile_iterator', 'image', {}, 'tileSize'],
  ['tile_iterator', 'image', { tileSize: [64, 32], overlap: [10, 32] }, 'overlap'],
  ['audio_splitter', 'audio', { chunkDurationSec: '1' }, 'chunkDurationSec'],
  ['audio_splitter', 'audio', { chunkDurationSec: 0 }, 'chunkDurationSec'],
  ['audio_splitter', 'audio', { chunkDurationSec: 2, overlapSec: '0.5' }, 'overlapSec'],
  ['audio_splitter', 'audio', { chunkDurationSec: 2, overlapSec: 2 }, 'overlapSec'],
  ['audio_splitter', 'audio', { minChunkDurationSec: -1 }, 'minChunkDurationSec'],
  ['audio_splitter', 'audio', { mode: 'silent' }, 'mode'],
  ['audio_splitter', 'audio', { mode: 'silence', detector: 'rms' }, 'detector'],
  ['audio_splitter', 'audio', { mode: 'silence', threshold: '0.5' }, 'threshold'],
  ['audio_splitter', 'audio', { mode: 'silence', threshold: 2 }, 'threshold'],
  ['audio_splitter', 'audio', { mode: 'silence', minSilenceSec: '0.3' }, 'minSilenceSec'],
  ['audio_splitter', 'audio', { mode: 'silence', minSegmentSec: -0.1 }, 'minSegmentSec'],
  ['audio_splitter', 'audio', { mode: 'silence', padSec: true }, 'padSec'],
  ['audio_splitter', 'audio', { mode: 'silence', chunkDurationSec: 5 }, 'chunkDurationSec'],
  ['audio_splitter', 'audio', { padSec: 0 }, 'padSec'],
  ['document_splitter', 'document', { separators: 'char_limit', limit: '20' }, 'limit'],
  ['document_splitter', 'document', { separators: 'char_limit', limit: 0 }, 'limit'],
  ['document_splitter', 'document', { separators: 'char_limit', limit: 20, overlap: '5' }, 'overlap'],
  ['document_splitter', 'document', { separators: 'char_limit', limit: 20, overlap: 20 }, 'overlap'],
  ['document_splitter', 'document', { separators: ['paragraph', 3] }, 'separators'],
  ['document_splitter', 'document', { separators: 'chapter' }, 'separator'],
  ['document_splitter', 'document', { separators: 'paragraph', limit: 20 }, 'limit'],
  ['document_splitter', 'document', { separators: 'char_limit', limit: 20, tokenizer: './tok' }, 'tokenizer'],
  ['document_splitter', 'document', { separators: 'token_limit', limit: 20, tokenizer: 7 }, 'tokenizer'],
  ['document_splitter', 'document', { metadata: 'title,author' }, 'metadata'],
  ['document_splitter', 'document', { metadata: [1] }, 'metadata'],
  ['string_splitter', 'string', { separators: 'word' }, 'separators'],
  ['string_splitter', 'string', { separators: ['sentence'] }, 'separators'],
  ['frame_iterator', 'video', { fps: '2' }, 'fps'],
  ['frame_iterator', 'video', { numFrames: '3' }, 'numFrames'],
  ['frame_iterator', 'video', { keyframesOnly: 'true' }, 'keyframesOnly'],
  ['frame_iterator', 'video', { stored: 0 }, 'stored'],
]

describe('iterator options are checked when the view is made', () => {
  let db: Tessera
  beforeAll(async () => {
    db = await memoryDb()
    await db.createTable('bases', { id: 'int', image: 'image', audio: 'audio', document: 'document', string: 'string', video: 'video' })
  })
  afterAll(async () => { await db.close() })

  test('library: every bad option is INVALID_ARGUMENT naming the iterator and the option, over an empty base', async () => {
    const base = await db.getTable('bases')
    for (const [name, input, args, option] of BAD) {
      const e = (await db.createView(`v_${name}`, base, { iterator: { name, input, args } }).then(() => undefined, (x) => x)) as { code?: string; message?: string } | undefined
      // An empty base expands no row: the check itself refuses, not the first run of the iterator.
      expect([name, args, e?.code]).toEqual([name, args, 'INVALID_ARGUMENT'])
      expect(e!.message).toContain(`${name}: `)
      expect(e!.message).toContain(option)
    }
  })

  test('running an iterator directly checks the same options', async () => {
    for (const [name, , args, option] of BAD) {
      const e = await collectRows(getIterator(name).run('unused', args)).then(() => undefined, (x) => x as Error)
      expect([name, args, e?.message.includes(option)]).toEqual([name, args, true])
    }
  })

  test('the hang: overlap "1" over a base row is refused at createView, in a child process that cannot outlive 60 s', async () => {
    const image = file('hang.png', await png(200, 150, '#3366ff'))
    // ulimit: a regressed step grows its array of starts without end; the child dies of it instead of the machine.
    const child = Bun.spawn(['sh', '-c', 'ulimit -v 4000000 && exec "$0" "$@"', process.execPath, join(import.meta.dir, 'fixtures/tile-step-child.ts'), image], { stdout: 'pipe', stderr: 'inherit' })
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    const out = await new Response(child.stdout).text()
    clearTimeout(timer)
    expect(await child.exited).toBe(0)
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { steps: { code?: string }[]; views: { code?: string; message?: string }[] }
    expect(r.steps.map((s) => s.code)).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT', 'INVALID_ARGUMENT'])
    expect(r.views.map((v) => v.code)).toEqual(['INVALID_ARGUMENT', 'INVALID_ARGUMENT'])
    for (const v of r.views) expect(v.message).toMatch(/tile_iterator: overlap must be/)
  }, 90_000)

  test('numbers given as numbers still give the right rows (tileSize 64, chunkDurationSec 1)', async () => {
    const photos = await db.createTable('photos', { id: 'int', photo: 'image' })
    await photos.insert([{ id: 1, photo: file('p.png', await png(200, 130, '#ff0000')) }])
    const tiles = await db.createView('tiles64', photos, { iterator: { name: 'tile_iterator', input: 'photo', args: { tileSize: 64 } } })
    const boxes = (await tiles.select('tile_box').collect()).toObjects().map((r) => r.tile_box)
    expect(boxes.length).toBe(4 * 3)
    expect(boxes[0]).toEqual([0, 0, 64, 64])
    const sounds = await db.createTable('sounds', { id: 'int', a: 'audio' })
    await sounds.insert([{ id: 1, a: file('t.wav', tones([{ hz: 440, sec: 3 }])) }])
    const chunks = await db.createView('chunks1', sounds, { iterator: { name: 'audio_splitter', input: 'a', args: { chunkDurationSec: 1 } } })
    const times = (await chunks.select('start_time_sec', 'end_time_sec').collect()).toObjects()
    expect(times).toEqual([{ start_time_sec: 0, end_time_sec: 1 }, { start_time_sec: 1, end_time_sec: 2 }, { start_time_sec: 2, end_time_sec: 3 }])
  })

  test('a chunk step under one sample is refused once the rate is known, not cut into endless empty chunks', async () => {
    const wav = file('s.wav', tones([{ hz: 440, sec: 0.5 }]))
    const e = await collectRows(getIterator('audio_splitter').run(wav, { chunkDurationSec: 1e-9 })).then(() => undefined, (x) => x as Error)
    expect(e?.message).toMatch(/audio_splitter: chunkDurationSec - overlapSec must be at least one sample/)
  }, 30_000)
})

describe('over HTTP: POST /api/v1/views', () => {
  let db: Tessera
  let call: ReturnType<typeof jsonCaller>
  beforeAll(async () => {
    db = await memoryDb()
    call = jsonCaller(createApp(db))
    const photos = await db.createTable('photos', { id: 'int', photo: 'image' })
    await photos.insert([{ id: 1, photo: file('h.png', await png(130, 70, '#00ff00')) }])
    await db.createTable('bases', { id: 'int', image: 'image', audio: 'audio', document: 'document', string: 'string', video: 'video' })
  })
  afterAll(async () => { await db.close() })

  test('each bad option is a 400 INVALID_ARGUMENT naming it, quickly, and the server stays up', async () => {
    // Over the empty base, so that a regression fails here instead of hanging this process in the synchronous loop
    // (the base-row case, the reported one, runs in a child process above): the check refuses before any row.
    for (const [name, input, args, option] of BAD) {
      const iterator = { name, input, args }
      const t0 = Date.now()
      const r = await call('POST', '/api/v1/views', { path: 'bad_view', base: 'bases', iterator })
      expect([iterator, r.status, r.body.error?.code]).toEqual([iterator, 400, 'INVALID_ARGUMENT'])
      expect(r.body.error.message).toContain(`${iterator.name}: `)
      expect(r.body.error.message).toContain(option)
      expect(Date.now() - t0).toBeLessThan(5000)
    }
    const ok = await call('POST', '/api/v1/views', { path: 'tiles', base: 'photos', iterator: { name: 'tile_iterator', input: 'photo', args: { tileSize: 64, overlap: 1 } } })
    expect(ok.status).toBe(201)
    expect((await (await db.getTable('tiles')).collect()).length).toBe(3 * 2)
  }, 60_000)
})

describe('tiles are cut per band, not from the whole decoded image', () => {
  test('bands hold whole tile rows within the budget, at least one row each', () => {
    const ys = tileStarts(4000, 700, 50) // 0, 650, ..., 3900
    const bands = tileBands(ys, 700, 4000, 9000)
    expect(bands.map((b) => [b.first, b.end])).toEqual([[0, 5], [5, 7]])
    expect(bands[1]).toMatchObject({ top: 3250, bottom: 4000 })
    // A single tile row above the budget is still one band.
    expect(tileBands([0, 100], 100, 200, 1 << 30).map((b) => [b.first, b.end])).toEqual([[0, 1], [1, 2]])
  })

  test('the tiles of an EXIF-rotated image spanning two bands are the same pixels as cut from the whole decoded image', async () => {
    // 4000x3000 stored, orientation 6: 3000x4000 upright, 36 MB of pixels, more than one 32 MB band.
    const [w, h] = [4000, 3000]
    const px = Buffer.alloc(w * h * 3)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px.set([(x * 7) & 255, (y * 5) & 255, (x + y) & 255], (y * w + x) * 3)
    const jpg = file('rotated.jpg', new Uint8Array(await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 90 }).withMetadata({ orientation: 6 }).toBuffer()))
    const rows = await collectRows(getIterator('tile_iterator').run(jpg, { tileSize: 700, overlap: 50 }))
    expect(rows.length).toBe(5 * 7)
    expect(rows.at(-1)!.tile_box).toEqual([2600, 3900, 3000, 4000])
    // The method the iterator used before: decode everything upright once, cut each tile from it.
    const whole = await sharp(jpg).rotate().raw().toBuffer({ resolveWithObject: true })
    const raw = { raw: { width: whole.info.width, height: whole.info.height, channels: whole.info.channels } }
    expect([whole.info.width, whole.info.height]).toEqual([3000, 4000])
    for (const r of rows) {
      const [left, top, right, bottom] = r.tile_box as number[]
      const want = await sharp(whole.data, raw).extract({ left: left!, top: top!, width: right! - left!, height: bottom! - top! }).raw().toBuffer()
      const got = await sharp(await resolveMedia(r.tile as string)).raw().toBuffer()
      expect([r.tile_box, got.equals(want)]).toEqual([r.tile_box, true])
    }
  }, 120_000)
})
