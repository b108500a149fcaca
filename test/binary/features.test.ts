import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { encodeWav, findTool, runTool } from '../../src/media/index.ts'
import { concat, pdf, vowelSamples } from '../media/fixtures.ts'
import { MODELS_DIR } from '../support/db.ts'
import { ensureBuilt, ROOT } from './build-once.ts'

// The README's features against the binary alone: copied into an empty folder and run with `env -i` (no
// node_modules, no bun, no PATH except a folder holding ffmpeg, which frame_iterator says it needs). A setup file
// that imports 'tessera' defines the tables; the server computes images, OCR, Silero VAD silence splits and video
// frames, lexical and image indexes; a job runs with `tessera run`; the console's page loads; the database CLI
// commands work against the server and the data dir. Then the same for the --slim build (images through sharp's
// WebAssembly build, models through onnxruntime-web).

const MOBILENET = join(MODELS_DIR, 'mobilenetv2/mobilenetv2-12-int8.onnx')
const FFMPEG = findTool('ffmpeg')
const BUILDS = { native: { file: join(ROOT, 'dist', 'tessera'), args: [] as string[] }, slim: { file: join(ROOT, 'dist', 'tessera-slim'), args: ['--slim'] } }

type Child = ReturnType<typeof Bun.spawn<'ignore', 'pipe', 'pipe'>>
const children: Child[] = []
const folders: string[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill(9)
  for (const f of folders) rmSync(f, { recursive: true, force: true })
})

async function render(text: string): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="140"><rect width="100%" height="100%" fill="white"/><text x="30" y="90" font-family="DejaVu Sans, sans-serif" font-size="42" fill="black">${text}</text></svg>`
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer())
}
const dataUrl = (bytes: Uint8Array, mime: string) => `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`

/** An empty folder with the binary, input files, and a PATH folder holding only ffmpeg. */
async function workspace(binary: string): Promise<{ dir: string; exe: string; env: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-features-'))
  folders.push(dir)
  const exe = join(dir, 'tessera')
  copyFileSync(binary, exe)
  const tools = join(dir, 'tools')
  mkdirSync(tools)
  if (FFMPEG) symlinkSync(FFMPEG, join(tools, 'ffmpeg'))
  mkdirSync(join(dir, 'tmp'))
  return { dir, exe, env: { HOME: dir, TMPDIR: join(dir, 'tmp'), PATH: tools } }
}

const SETUP = (withImageIndex: boolean) => `import { call, defineSetup, embedders, image } from 'tessera'
export default defineSetup(async (db) => {
  await db.createDir('media')
  const photos = await db.createTable('media/photos', { id: 'int', photo: 'image' }, { primaryKey: 'id' })
  await photos.addComputedColumn('width', image.width(photos.col('photo')))
  await photos.addComputedColumn('thumb', image.thumbnail(photos.col('photo'), 32))
  await photos.addComputedColumn('small_w', image.width(image.resize(image.convert(photos.col('photo'), { format: 'jpeg' }), { width: 16 })))
  await photos.addComputedColumn('gray', image.mode(image.grayscale(photos.col('photo'))))
  await photos.addComputedColumn('crop_w', image.width(image.crop(photos.col('photo'), [0, 0, 10, 8])))
  await photos.addComputedColumn('turned_w', image.width(image.rotate(photos.col('photo'), 90)))
  await db.createView('media/tiles', photos, { iterator: { name: 'tile_iterator', input: 'photo', args: { tileSize: 32 } } })
  const papers = await db.createTable('media/papers', { id: 'int', doc: 'document' })
  await db.createView('media/passages', papers, { iterator: { name: 'document_splitter', input: 'doc', args: { separators: 'paragraph' } } })
  await photos.addComputedColumn('text', call('ocr', [photos.col('photo')]))
  ${withImageIndex ? `await photos.addEmbeddingIndex('photo', { embed: embedders.image(${JSON.stringify(MOBILENET)}), name: 'img' })` : ''}
  const docs = await db.createTable('media/docs', { id: 'int', text: 'string' }, { primaryKey: 'id' })
  await docs.addEmbeddingIndex('text', { embed: embedders.lexical(), name: 'lex' })
  const sounds = await db.createTable('media/sounds', { id: 'int', audio: 'audio' })
  await db.createView('media/speech', sounds, { iterator: { name: 'audio_splitter', input: 'audio', args: { mode: 'silence', padSec: 0 } } })
  const clips = await db.createTable('media/clips', { id: 'int', video: 'video' })
  await db.createView('media/frames', clips, { iterator: { name: 'frame_iterator', input: 'video', args: { fps: 2 } } })
})
`

const JOB = `import { col } from 'tessera'
export default async function (db) {
  const docs = await db.getTable('media/docs')
  await docs.insert([{ id: 3, text: 'written by a job' }])
  console.log('job saw', await docs.where(col('id').gt(0)).count(), 'docs')
}
`

function run(ws: { dir: string; exe: string; env: Record<string, string> }, args: string[]): Child {
  const child = Bun.spawn([ws.exe, ...args], { cwd: ws.dir, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: ws.env })
  children.push(child)
  return child
}

async function finish(child: Child): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { code, stdout, stderr }
}

async function ok(ws: Parameters<typeof run>[0], ...args: string[]): Promise<string> {
  const r = await finish(run(ws, args))
  if (r.code !== 0) throw new Error(`tessera ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`)
  return r.stdout
}

async function post<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const json = await res.json()
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json as T
}

for (const [kind, build] of Object.entries(BUILDS)) {
  describe(`${kind} binary alone with env -i`, () => {
    let ws: Awaited<ReturnType<typeof workspace>>
    let server: Child | undefined
    let base = ''

    beforeAll(async () => {
      const ms = ensureBuilt(build.file, ...build.args)
      if (ms) console.log(`build.ts ${build.args.join(' ')}: ${(ms / 1000).toFixed(1)} s`)
      ws = await workspace(build.file)
    }, 300_000)

    afterAll(() => server?.kill(9))

    test('a setup file importing tessera, then serve: fresh data dir', async () => {
      writeFileSync(join(ws.dir, 'setup.ts'), SETUP(existsSync(MOBILENET)))
      const applied = await finish(run(ws, ['apply', 'setup.ts', '--home', 'data']))
      expect(applied.stderr).not.toContain('error')
      expect(applied.stdout).toContain('create view media/frames')
      expect(applied.code).toBe(0)
      server = run(ws, ['serve', '--home', 'data', '--port', '0', '--quiet'])
      const reader = server.stdout.getReader()
      let seen = ''
      while (!/ at http:\/\/[^:]+:(\d+)/.test(seen)) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`serve exited: ${seen} ${await new Response(server.stderr).text()}`)
        seen += new TextDecoder().decode(value)
      }
      reader.releaseLock()
      base = `http://127.0.0.1:${seen.match(/ at http:\/\/[^:]+:(\d+)/)![1]}`
      expect((await fetch(`${base}/health`)).status).toBe(200)
    }, 120_000)

    test('the web console page', async () => {
      const res = await fetch(`${base}/`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toContain('text/html')
      expect(await res.text()).toContain('<script')
    })

    test('images: functions, OCR, image index (slim: sharp and onnxruntime as wasm)', async () => {
      const photo = new Uint8Array(await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).png().toBuffer())
      // Decoded in each of the three formats; encoded again to WebP (thumb) and JPEG, resized (small_w).
      const jpeg = new Uint8Array(await sharp({ create: { width: 80, height: 60, channels: 3, background: '#cc3366' } }).jpeg().toBuffer())
      const webp = new Uint8Array(await sharp({ create: { width: 50, height: 30, channels: 4, background: '#33cc6680' } }).webp().toBuffer())
      await post(base, '/tables/media/photos/-/rows', { rows: [{ id: 1, photo: dataUrl(await render('INVOICE 4711'), 'image/png') }, { id: 2, photo: dataUrl(photo, 'image/png') }, { id: 3, photo: dataUrl(jpeg, 'image/jpeg') }, { id: 4, photo: dataUrl(webp, 'image/webp') }] })
      const { rows } = await post<{ rows: { id: number; width: number; text: string; thumb: string; small_w: number }[] }>(base, '/query', { table: 'media/photos', select: { id: { col: 'id' }, width: { col: 'width' }, text: { col: 'text' }, thumb: { col: 'thumb' }, small_w: { col: 'small_w' } }, orderBy: [{ expr: { col: 'id' } }] })
      expect(rows.map((r) => [r.id, r.width, r.text, r.small_w])).toEqual([[1, 640, 'INVOICE 4711', 16], [2, 64, '', 16], [3, 80, '', 16], [4, 50, '', 16]])
      for (const r of rows) expect(r.thumb).toMatch(/^data:image\/webp;base64,/)
      const more = await post<{ rows: Record<string, unknown>[] }>(base, '/query', { table: 'media/photos', select: { gray: { col: 'gray' }, crop_w: { col: 'crop_w' }, turned_w: { col: 'turned_w' } }, orderBy: [{ expr: { col: 'id' } }] })
      // Grayscale keeps the format: the rendered PNG has alpha (LA); WebP has no gray mode, so it reads back as RGBA.
      expect(more.rows).toEqual([{ gray: 'LA', crop_w: 10, turned_w: 140 }, { gray: 'L', crop_w: 10, turned_w: 48 }, { gray: 'L', crop_w: 10, turned_w: 60 }, { gray: 'RGBA', crop_w: 10, turned_w: 30 }])
      const tiles = await post<{ count: number }>(base, '/query', { table: 'media/tiles', where: { fn: 'eq', args: [{ col: 'id' }, { lit: 2 }] }, count: true })
      expect(tiles.count).toBe(4)   // 64×48 in 32-pixel tiles
      if (existsSync(MOBILENET)) {
        const hits = await post<{ rows: { id: number }[] }>(base, '/tables/media/photos/-/search', { column: 'photo', image: dataUrl(photo, 'image/png'), k: 1 })
        expect(hits.rows[0]!.id).toBe(2)
      } else console.log(`image index skipped: no model at ${MOBILENET}`)
    }, 180_000)

    test('lexical index search and a job with tessera run', async () => {
      await post(base, '/tables/media/docs/-/rows', { rows: [{ id: 1, text: 'lava flows from the volcano' }, { id: 2, text: 'a quiet library reading room' }] })
      const hits = await post<{ rows: { id: number }[] }>(base, '/tables/media/docs/-/search', { column: 'text', text: 'volcano lava', k: 1 })
      expect(hits.rows[0]!.id).toBe(1)
      writeFileSync(join(ws.dir, 'job.ts'), JOB)
      expect(await ok(ws, 'run', 'job.ts', '--url', base)).toContain('job saw 3 docs')
    }, 120_000)

    test('documents: a PDF split into passages', async () => {
      await post(base, '/tables/media/papers/-/rows', { rows: [{ id: 1, doc: dataUrl(pdf([['Lava flows from the volcano.'], ['A quiet reading room.']]), 'application/pdf') }] })
      const { rows } = await post<{ rows: { text: string }[] }>(base, '/query', { table: 'media/passages', select: { text: { col: 'text' } }, orderBy: [{ expr: { col: 'pos' } }] })
      expect(rows.map((r) => r.text).join(' ')).toContain('Lava flows from the volcano.')
      expect(rows.map((r) => r.text).join(' ')).toContain('A quiet reading room.')
    }, 120_000)

    test('audio: silence split with the Silero VAD', async () => {
      const sr = 16000
      const speech = concat([new Float32Array(sr * 0.5), vowelSamples(1.2), new Float32Array(sr * 1), vowelSamples(0.8), new Float32Array(sr * 1)])
      await post(base, '/tables/media/sounds/-/rows', { rows: [{ id: 1, audio: dataUrl(encodeWav([speech], sr), 'audio/wav') }] })
      const { count } = await post<{ count: number }>(base, '/query', { table: 'media/speech', count: true })
      expect(count).toBe(2)
    }, 120_000)

    test.skipIf(!FFMPEG)('video: frames with ffmpeg on PATH', async () => {
      const clip = join(ws.dir, 'clip.mp4')
      await runTool(FFMPEG!, ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=10:duration=2', '-pix_fmt', 'yuv420p', clip])
      await post(base, '/tables/media/clips/-/rows', { rows: [{ id: 1, video: clip }] })
      const { rows } = await post<{ rows: { pos_msec: number }[] }>(base, '/query', { table: 'media/frames', select: { pos_msec: { col: 'pos_msec' } }, orderBy: [{ expr: { col: 'pos_msec' } }] })
      expect(rows.map((r) => r.pos_msec)).toEqual([0, 500, 1000, 1500])
    }, 120_000)

    test('the database CLI against the server, then against the data dir', async () => {
      expect(await ok(ws, 'ls', 'media', '--url', base)).toContain('media/docs\n')
      expect(JSON.parse(await ok(ws, 'describe', 'media/docs', '--json', '--url', base))).toMatchObject({ rows: 3 })
      expect(await ok(ws, 'query', 'media/docs', '--count', '--url', base)).toBe('3\n')
      server!.kill('SIGTERM')
      expect(await server!.exited).toBe(0)
      expect(await ok(ws, 'history', 'media/docs', '--home', 'data')).toContain('insert')
      expect(await ok(ws, 'check', '--home', 'data')).toContain('ok:')
      // The rest of the database CLI on the data dir: import with --parents, dirs, mkdir, mv, revert, drop, completion.
      writeFileSync(join(ws.dir, 'people.csv'), 'id,name\n1,ann\n2,bob\n')
      await ok(ws, 'import', 'people.csv', 'crm/people', '-p', '--home', 'data')
      expect(JSON.parse(await ok(ws, 'dirs', '--json', '--home', 'data'))).toEqual(['crm', 'media'])
      expect(await ok(ws, 'mkdir', '-p', 'crm/archive', '--home', 'data')).toBe('created dir crm/archive\n')
      await ok(ws, 'mv', 'crm/people', 'crm/archive/people', '--home', 'data')
      expect(await ok(ws, 'revert', 'crm/archive/people', '--home', 'data')).toContain('now at version 0')
      expect(await ok(ws, 'drop', 'crm', '--force', '--home', 'data')).toBe('dropped dir crm\n')
      expect(await ok(ws, 'completion', 'bash')).toContain('complete')
      expect(await ok(ws, 'help', 'query')).toContain('examples')
    }, 120_000)
  })
}
