import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import type { Tessera } from '../../src/index.ts'
import { embedders, udf } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { TokenStore } from '../../src/server/tokens.ts'
import { memoryDb, MODELS_DIR } from '../support/db.ts'
import { pdf } from '../media/fixtures.ts'
import { dataUrl, squarePng, toneWav } from './fixtures.ts'

// The web console in a real browser (Debian's chromium through playwright-core; no browser download): log in with a
// token, browse, query, search, upload, revert, watch a job; keyboard use; no horizontal overflow on desktop and
// phone widths. Screenshots go to test-artifacts/console/.

setDefaultTimeout(90_000)

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dir, '../../test-artifacts/console')
const MOBILENET = join(MODELS_DIR, 'mobilenetv2/mobilenetv2-12-int8.onnx')
const DOG = join(MODELS_DIR, 'testdata/dog.jpg')
const haveModel = existsSync(MOBILENET) && existsSync(DOG)

let db: Tessera
let server: ReturnType<typeof Bun.serve>
let browser: BrowserContext
let page: Page
let base = ''
let admin = ''
let reader = ''

const slowLen = udf({ name: 'console_test_slow_len', returns: 'int', params: ['string'], fn: async (s: string) => { await Bun.sleep(60); return s.length } })

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: false })
}

/** Nothing may scroll sideways: wide grids scroll inside their own box. */
async function expectNoOverflow(): Promise<void> {
  const [scroll, inner] = await page.evaluate(() => [document.scrollingElement!.scrollWidth, innerWidth])
  expect(scroll).toBeLessThanOrEqual(inner)
}

async function login(token: string): Promise<void> {
  await page.goto(`${base}/`)
  await page.locator('#token').waitFor()
  await page.locator('#token').fill(token)
  await page.keyboard.press('Enter') // Enter submits the form
  await page.locator('.top .who').waitFor()
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true })
  db = await memoryDb()
  const tokens = new TokenStore(db.driver)
  admin = await tokens.create('admin', { admin: true })
  reader = await tokens.create('viewer', { scopes: [{ prefix: 'demo', access: 'read' }] })
  const app = createApp(db, { tokens, authenticate: tokens.authenticate })
  server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch, idleTimeout: 60 })
  base = `http://127.0.0.1:${server.port}`

  await db.createDir('demo')
  const colors: [string, string][] = [['red', '#d33'], ['green', '#2a2'], ['blue', '#33d'], ['orange', '#f80'], ['purple', '#828']]
  const photos = await db.createTable('demo/photos', { id: 'int', title: 'string', photo: 'image?', clip: 'audio?', meta: 'json?' }, { primaryKey: 'id' })
  // Photos as files on disk: the image embedder reads paths (it does not resolve media:// refs yet).
  const photoDir = mkdtempSync(join(tmpdir(), 'tessera-console-photos-'))
  await photos.insert(await Promise.all(colors.map(async ([name, hex], i) => ({
    id: i + 1, title: `${name} square`, photo: (writeFileSync(join(photoDir, `${name}.png`), await squarePng(hex, 96, name[0]!.toUpperCase())), join(photoDir, `${name}.png`)),
    ...(i === 0 ? { clip: dataUrl(toneWav(), 'audio/wav') } : {}),
    meta: { color: hex, tags: ['generated', name], size: { w: 96, h: 96, note: 'a long json value that folds in the grid' } },
  }))))
  if (haveModel) await photos.insert([{ id: 6, title: 'a dog', photo: DOG }])
  await photos.addComputedColumn('shout', photos.c.title.upper())
  await photos.addComputedColumn('as_number', photos.c.title.astype('int'), { onError: 'ignore' })
  await photos.addEmbeddingIndex('title', { embed: embedders.lexical({ dims: 64 }), name: 'by_title' })
  if (haveModel) await photos.addEmbeddingIndex('photo', { embed: embedders.image(MOBILENET), name: 'by_photo', onError: 'ignore' })

  const notes = await db.createTable('demo/notes', { text: 'string' })
  await notes.insert(Array.from({ length: 60 }, (_, i) => ({ text: `note ${i}: ${['cats purr softly', 'dogs bark loudly', 'birds sing at dawn'][i % 3]}` })))

  // Documents for the text previews: markdown longer than the preview, short text, a PDF upload, and a file that
  // stopped parsing after it was stored.
  const docDir = mkdtempSync(join(tmpdir(), 'tessera-console-docs-'))
  const docFile = (name: string, body: string) => (writeFileSync(join(docDir, name), body), join(docDir, name))
  const guide = `# Field guide\n\nHow to read the tables: every row is one observation, every column one measurement.\n\n## Setup\n\n` +
    Array.from({ length: 60 }, (_, i) => `Paragraph ${i}: the quick brown fox jumps over the lazy dog.`).join('\n\n')
  const docs = await db.createTable('demo/docs', { id: 'int', name: 'string', doc: 'document?' }, { primaryKey: 'id' })
  await docs.insert([
    { id: 1, name: 'guide', doc: docFile('field-guide.md', guide) },
    { id: 2, name: 'memo', doc: docFile('memo.txt', 'Short memo: lunch at noon.') },
    { id: 3, name: 'report', doc: dataUrl(pdf([['Quarterly report', 'Revenue grew in every region'], ['Second page']]), 'application/pdf') },
    { id: 4, name: 'broken', doc: docFile('broken.txt', 'fine when stored') },
    // more rows than the grid's box shows at once: their previews are asked for when they scroll into view
    ...Array.from({ length: 26 }, (_, i) => ({ id: 5 + i, name: `filler ${5 + i}`, doc: docFile(`filler-${5 + i}.txt`, `Filler document number ${5 + i}.`) })),
  ])
  writeFileSync(join(docDir, 'broken.txt'), '%PDF-1.4\nnot really a pdf\n')

  // A fresh profile every run (playwright takes it as the persistent context's dir, not as --user-data-dir).
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tessera-chromium-')), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
  page = browser.pages()[0] ?? (await browser.newPage())
  page.on('pageerror', (e) => { throw e })
})

afterAll(async () => {
  await browser?.close()
  server?.stop(true)
  await db?.close()
})

describe.skipIf(!existsSync(CHROMIUM))('web console in chromium', () => {
  test('login: a bad token is refused, a good one signs in (Enter submits)', async () => {
    await page.goto(`${base}/`)
    await page.locator('#token').fill('not-a-token')
    await page.keyboard.press('Enter')
    await expect(await (page.locator('.error').textContent())).toContain('unknown or revoked API token')
    // The error is the HTTP client's, rebuilt from the answer's code (src/client/http.ts), which the box shows.
    expect(await page.locator('.error strong').textContent()).toBe('UNAUTHORIZED')
    await shot('01-login')
    await login(admin)
    await expect(await (page.locator('.top .who').textContent())).toContain('admin')
    await expect(await (page.locator('.tree').textContent())).toContain('photos')
    await expectNoOverflow()
  })

  test('browse: the tree, a paged grid with thumbnails, audio, folded JSON and error badges', async () => {
    await page.locator('.tree a', { hasText: 'photos' }).click()
    await page.locator('.grid img').first().waitFor()
    const thumbs = await page.locator('.grid .thumb img').count()
    expect(thumbs).toBe(haveModel ? 6 : 5)
    // thumbnails really loaded (decoded by the browser, so served as images)
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.grid .thumb img')].every((i) => i.complete && i.naturalWidth > 0))
    expect(await page.locator('.grid audio').count()).toBe(1)
    expect(await page.locator('.grid details.json').count()).toBeGreaterThan(0)
    // as_number = astype(title, int) fails on every row: a badge with the error type and message
    expect(await page.locator('.grid .err-badge').count()).toBe(haveModel ? 6 : 5)
    await expect(await (page.locator('.grid .err-badge').first().textContent())).toMatch(/\S/)
    await expect(await (page.locator('.grid tbody tr').first().textContent())).toContain('RED SQUARE')
    await expectNoOverflow()
    await shot('02-browse')

    await page.locator('.tree a', { hasText: 'notes' }).click()
    await page.waitForFunction(() => document.querySelector('.page-info')?.textContent === 'Page 1 of 3 · 60 rows')
    await page.getByRole('button', { name: 'Next →' }).click()
    await page.waitForFunction(() => document.querySelector('.page-info')?.textContent?.includes('Page 2 of 3'))
    await page.waitForFunction(() => document.querySelector('.grid tbody tr')?.textContent?.includes('note 25'))
  })

  test('documents: each cell shows the start of its text, expands (keyboard) to the longer preview, keeps the link', async () => {
    const asked: string[] = []
    const onRequest = (r: { url(): string }) => { if (r.url().includes('preview=text')) asked.push(new URL(r.url()).searchParams.get('ref')!) }
    page.on('request', onRequest)
    await page.goto(`${base}/#/t/demo/docs`)
    const row = (name: string) => page.locator('.grid tbody tr', { hasText: name })
    await row('guide').locator('.doc-snippet', { hasText: 'Field guide' }).waitFor()
    // lazily: the rows below the grid's scroll box have not asked for their text yet
    expect(await page.locator('.grid tbody tr').count()).toBe(25)
    await page.waitForTimeout(300)
    expect(asked.length).toBeGreaterThanOrEqual(4)
    expect(asked.length).toBeLessThan(25)
    expect(asked.some((r) => r.endsWith('filler-25.txt'))).toBe(false)
    await expect(await (row('filler 25').locator('summary').textContent())).toBe('Loading preview…')
    await row('filler 25').scrollIntoViewIfNeeded()
    await row('filler 25').locator('.doc-snippet', { hasText: 'Filler document number 25.' }).waitFor()
    page.off('request', onRequest)
    await page.locator('.grid-wrap').evaluate((el) => { el.scrollTop = 0 })
    const snippet = (await row('guide').locator('summary .doc-snippet').textContent())!
    expect(snippet.startsWith('Field guide How to read the tables: every row is one observation')).toBe(true)
    expect(snippet.endsWith('…')).toBe(true)
    expect(snippet.length).toBeLessThanOrEqual(121)
    // short text needs no disclosure; the PDF's text comes from unpdf
    await row('memo').locator('.doc-snippet', { hasText: 'Short memo' }).waitFor()
    expect(await row('memo').locator('details').count()).toBe(0)
    await row('report').locator('.doc-snippet', { hasText: 'Quarterly report Revenue grew in every region' }).waitFor()
    // the link still opens the file itself
    const href = (await row('guide').locator('a.doc').getAttribute('href'))!
    expect(href).toContain('/-/media?')
    expect(href).not.toContain('preview=')
    await expect(await (row('guide').locator('a.doc').textContent())).toBe('field-guide.md')
    // keyboard: the summary takes focus and Enter opens the full preview
    const details = row('guide').locator('details.doc-preview')
    expect(await details.getAttribute('open')).toBeNull()
    await row('guide').locator('summary').focus()
    await page.keyboard.press('Enter')
    await row('guide').locator('.doc-text').waitFor({ state: 'visible' })
    expect(await details.getAttribute('open')).not.toBeNull()
    const full = (await row('guide').locator('.doc-text').textContent())!
    expect(full).toContain('Setup')
    expect(full).toContain('Paragraph 20: the quick brown fox')
    expect(full.length).toBeGreaterThan(1500)
    expect(full.length).toBeLessThanOrEqual(2002)
    await expect(await (row('guide').locator('.doc-meta').textContent())).toMatch(/^MD · “Field guide” · first [\d,]+ characters$/)
    // a document that no longer parses says so in its cell, with the server's reason
    const failed = row('broken').locator('details.doc-failed')
    await failed.locator('summary', { hasText: 'No text preview' }).waitFor()
    await failed.locator('summary').click()
    await expect(await (failed.locator('.long').textContent())).toContain("in column 'doc' of 'demo/docs'")
    await expectNoOverflow()
    await shot('02b-documents')
  })

  test('schema: types, nullability, computed expressions, dependents, indexes', async () => {
    await page.goto(`${base}/#/t/demo/photos?tab=schema`)
    const schema = page.locator('table.schema')
    await schema.waitFor()
    const text = await schema.textContent()
    expect(text).toContain('upper(title)')
    expect(text).toContain('shout, as_number, index by_title') // title's dependents
    await expect(await (page.locator('section[aria-label="schema"]').textContent())).toContain('lexical_embed')
    await expectNoOverflow()
    await shot('03-schema')
  })

  test('query: the builder shows the JSON it sends, Enter runs it, results in the grid with error badges', async () => {
    await page.goto(`${base}/#/t/demo/photos?tab=query`)
    const cond = page.locator('.cond').first()
    await cond.locator('select[aria-label="column"]').selectOption('title')
    await cond.locator('select[aria-label="operator"]').selectOption('contains')
    await cond.locator('input[aria-label="value"]').fill('e s')
    await page.locator('label', { hasText: 'Order by' }).locator('select').selectOption('id')
    await page.locator('label', { hasText: 'descending' }).locator('input').check()
    const json = JSON.parse((await page.locator('.api-json code').textContent())!)
    // every column, plus errortype/errormsg of the computed ones (shout, as_number) for the grid's error badges
    const cols = ['id', 'title', 'photo', 'clip', 'meta', 'shout', 'as_number']
    const select = Object.fromEntries(cols.flatMap((c) => [[c, { col: c }], ...(c === 'shout' || c === 'as_number'
      ? [[`${c}#errortype`, { col: c, prop: 'errortype' }], [`${c}#errormsg`, { col: c, prop: 'errormsg' }]] : [])]))
    expect(json).toEqual({ table: 'demo/photos', select, where: { fn: 'contains', args: [{ col: 'title' }, { lit: 'e s' }] }, orderBy: [{ expr: { col: 'id' }, desc: true }], limit: 50 })
    expect(Object.keys(json.select)).toEqual(Object.keys(select)) // in column order
    await cond.locator('input[aria-label="value"]').focus()
    await page.keyboard.press('Enter')
    await page.locator('.count').waitFor()
    await expect(await (page.locator('.count').textContent())).toBe('3 rows')
    const titles = await page.locator('.grid tbody tr td:nth-child(2)').allTextContents()
    expect(titles).toEqual(['purple square', 'orange square', 'blue square'])
    // the error outputs are folded into their column, not shown as columns of their own
    const headers = await page.locator('.grid thead th .col-name').allTextContents()
    expect(headers).toEqual(cols)
    // as_number = astype(title, int) failed on every row: the same badges as the Rows tab, with the stored error
    const t = await db.getTable('demo/photos')
    const stored = (await t.where(t.c.id.eq(5)).select({ et: t.c.as_number.errortype, em: t.c.as_number.errormsg }).collect()).toObjects()[0]!
    expect(stored.et).toEqual(expect.any(String))
    const badges = page.locator('.grid tbody td:nth-child(7) .err-badge')
    expect(await badges.count()).toBe(3)
    expect(await badges.first().isVisible()).toBe(true)
    await expect(await (badges.first().getAttribute('title'))).toBe(`${stored.et}: ${stored.em}`)
    await expect(await (badges.first().textContent())).toContain(String(stored.et))
    // shout did not fail: its cells show values
    await expect(await (page.locator('.grid tbody tr').first().locator('td:nth-child(6)').textContent())).toBe('PURPLE SQUARE')
    expect(await page.locator('.grid tbody td:nth-child(6) .err-badge').count()).toBe(0)
    await expectNoOverflow()
    await shot('04-query')
    // a bad query shows the API's error
    await cond.locator('select[aria-label="column"]').selectOption('id')
    await cond.locator('select[aria-label="operator"]').selectOption('gt')
    await cond.locator('input[aria-label="value"]').fill('abc')
    await page.getByRole('button', { name: 'Run query' }).click()
    await expect(await (page.locator('.error').textContent())).toContain('INVALID')
  })

  test('search: by typed text, and by an uploaded image when an image index exists', async () => {
    await page.goto(`${base}/#/t/demo/photos?tab=search`)
    await page.locator('select', { hasText: 'by_title' }).selectOption('by_title')
    await page.locator('input[aria-label="search text"]').fill('orange')
    await page.keyboard.press('Enter')
    await page.locator('.grid tbody tr').first().waitFor()
    await expect(await (page.locator('.grid tbody tr').first().textContent())).toContain('orange square')
    const headers = await page.locator('.grid thead th .col-name').allTextContents()
    expect(headers).toEqual(['id', 'title', 'photo', 'clip', 'meta', 'shout', 'as_number', 'score'])
    // the request asks for per-cell errors (the table has computed columns); as_number failed on every row
    expect(JSON.parse((await page.locator('.api-json code').textContent())!)).toMatchObject({ text: 'orange', errors: true })
    const badge = page.locator('.grid tbody tr').first().locator('td:nth-child(7) .err-badge')
    expect(await badge.isVisible()).toBe(true)
    await expect(await (badge.getAttribute('title'))).toMatch(/\S+: \S+/)
    expect(await page.locator('.grid tbody td:nth-child(6) .err-badge').count()).toBe(0)
    await shot('05-search-text')
    if (!haveModel) {
      console.warn(`image search skipped: ${MOBILENET} or ${DOG} is missing (test data, see ../shared/models)`)
      return
    }
    await page.locator('select', { hasText: 'by_photo' }).selectOption('by_photo')
    await page.locator('.drop input[type=file]').setInputFiles(DOG)
    await page.locator('.query-image img').waitFor()
    await page.waitForFunction(() => document.querySelector('.grid tbody tr')?.textContent?.includes('a dog'))
    const score = Number(await page.locator('.grid tbody tr').first().locator('td').last().textContent())
    expect(score).toBeGreaterThan(0.99) // the same photo: cosine similarity 1
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('.grid .thumb img')].every((i) => i.complete && i.naturalWidth > 0))
    await expectNoOverflow()
    await shot('06-search-image')
  })

  test('upload: dropped files are inserted; a broken one is stored as null plus its error (onError: ignore)', async () => {
    await page.goto(`${base}/#/t/demo/photos?tab=upload`)
    const dir = mkdtempSync(join(tmpdir(), 'tessera-upload-'))
    writeFileSync(join(dir, 'teal.png'), await squarePng('#099', 80, 'T'))
    writeFileSync(join(dir, 'broken.png'), 'this is not a png')
    await page.locator('.drop input[type=file]').setInputFiles([join(dir, 'teal.png'), join(dir, 'broken.png')])
    await page.locator('table.pending tbody tr').nth(1).waitFor()
    const rows = page.locator('table.pending tbody tr')
    await rows.nth(0).locator('input[aria-label="id"]').fill('100')
    await rows.nth(0).locator('input[aria-label="title"]').fill('teal upload')
    await rows.nth(1).locator('input[aria-label="id"]').fill('101')
    await rows.nth(1).locator('input[aria-label="title"]').fill('broken upload')
    await page.getByRole('button', { name: 'Insert 2 rows' }).click()
    await page.locator('.summary', { hasText: 'inserted' }).waitFor()
    // The upload inserts with onError: 'ignore', so (as in Pixeltable) the broken file is stored as null plus its
    // error in its own cell, and its row is inserted with the error flagged.
    await expect(await (page.locator('.summary').textContent())).toBe('2 rows inserted')
    await expect(await (rows.nth(0).locator('.status').textContent())).toContain('inserted')
    await expect(await (rows.nth(1).locator('.status').textContent())).toContain('failed')
    const photos = await db.getTable('demo/photos')
    expect(await photos.where({ fn: 'eq', args: [{ col: 'id' }, { lit: 100 }] }).count()).toBe(1)
    const broken = (await photos.where({ fn: 'eq', args: [{ col: 'id' }, { lit: 101 }] }).select({ photo: photos.c.photo, et: photos.c.photo.errortype, em: photos.c.photo.errormsg }).collect()).rows
    expect(broken).toEqual([{ photo: null, et: 'INVALID_MEDIA', em: expect.stringMatching(/not a (valid|recognised) image|cannot decode/) }])
    await expectNoOverflow()
    await shot('07-upload')
  })

  test('history: revert undoes the upload (asked twice)', async () => {
    const t = await db.getTable('demo/photos')
    const before = t.version
    await page.goto(`${base}/#/t/demo/photos?tab=history`)
    await page.locator('table.history tbody tr').first().waitFor()
    await expect(await (page.locator('table.history tbody tr td').first().textContent())).toBe(String(before))
    await page.getByRole('button', { name: `Revert version ${before}` }).click()
    await shot('08-history-confirm')
    await page.getByRole('button', { name: `Confirm: undo version ${before}` }).click()
    await page.waitForFunction((v) => document.querySelector('table.history tbody tr td')?.textContent === String(v), before - 1)
    expect((await db.getTable('demo/photos')).version).toBe(before - 1)
    expect(await (await db.getTable('demo/photos')).where({ fn: 'eq', args: [{ col: 'id' }, { lit: 100 }] }).count()).toBe(0)
  })

  test('jobs: live progress over server-sent events, and cancel', async () => {
    const info = await db.jobs.start({ table: 'demo/notes', column: 'slow_len', expr: slowLen({ col: 'text' } as never), batchSize: 2 })
    await page.goto(`${base}/#/jobs`)
    const job = page.locator(`li[data-job="${info.key}"]`) // the API names jobs by their unguessable key
    await job.waitFor()
    // progress arrives by SSE without reloading: the count moves past 0
    await page.waitForFunction((id) => {
      const m = document.querySelector(`li[data-job="${id}"] .job-count`)?.textContent?.match(/^(\d+) \/ (\d+)/)
      return !!m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])
    }, info.key, { timeout: 15000 })
    await shot('09-jobs-running')
    await job.getByRole('button', { name: 'Cancel' }).click()
    await page.waitForFunction((id) => document.querySelector(`li[data-job="${id}"] .status`)?.textContent === 'cancelled', info.key)
    expect((await db.jobs.get(info.id)).status).toBe('cancelled')
    await expectNoOverflow()
  })

  test('keyboard: Tab reaches the tree and the tabs; arrow keys move between tabs', async () => {
    await page.goto(`${base}/#/t/demo/photos`)
    await page.reload()
    await page.locator('.grid').waitFor()
    const seen: string[] = []
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab')
      seen.push(await page.evaluate(() => { const a = document.activeElement as HTMLElement | null; return `${a?.tagName}:${a?.getAttribute('role') ?? ''}:${a?.textContent?.trim().slice(0, 20)}` }))
    }
    expect(seen.filter((s) => s.startsWith('A::') && s.includes('photos'))).toHaveLength(1)
    expect(seen.some((s) => s === 'BUTTON:tab:rows')).toBe(true)
    await page.locator('#tab-rows').focus()
    await page.keyboard.press('ArrowRight')
    await page.waitForFunction(() => location.hash.includes('tab=schema'))
  })

  test('a read-only token sees no upload tab and no revert button; the API refuses its writes', async () => {
    await page.evaluate(() => { sessionStorage.clear(); localStorage.clear() })
    await login(reader)
    await expect(await (page.locator('.top .who').textContent())).toContain('viewer')
    await page.goto(`${base}/#/t/demo/photos?tab=history`)
    await page.locator('table.history').waitFor()
    expect(await page.locator('[role=tab]', { hasText: 'upload' }).count()).toBe(0)
    expect(await page.getByRole('button', { name: /Revert/ }).count()).toBe(0)
    const status = await page.evaluate(async (token) => (await fetch('/api/v1/tables/demo/photos/-/revert', { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status, reader)
    expect(status).toBe(403)
    await shot('10-read-only')
  })

  test('phone width (390×844): no horizontal overflow in any view', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    for (const [hash, ready, name] of [
      ['#/', '.tree', 'home'], ['#/t/demo/photos', '.grid', 'rows'], ['#/t/demo/docs', '.grid .doc-cell summary .doc-snippet', 'documents'], ['#/t/demo/photos?tab=schema', 'table.schema', 'schema'],
      ['#/t/demo/photos?tab=query', '.builder', 'query'], ['#/t/demo/photos?tab=search', '.builder', 'search'],
      ['#/t/demo/photos?tab=history', 'table.history', 'history'], ['#/jobs', '.jobs', 'jobs'],
    ] as const) {
      await page.goto(`${base}/${hash}`)
      await page.locator(ready).first().waitFor()
      await expectNoOverflow()
      await shot(`11-phone-${name}`)
    }
    // an opened document preview wraps inside its cell too
    await page.goto(`${base}/#/t/demo/docs`)
    const guide = page.locator('.grid tbody tr', { hasText: 'guide' })
    await guide.locator('summary .doc-snippet').waitFor()
    await guide.locator('summary').click()
    await guide.locator('.doc-text').waitFor({ state: 'visible' })
    await expectNoOverflow()
    await shot('11-phone-documents-open')
    await page.setViewportSize({ width: 1280, height: 800 })
  })
})
