import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import type { Tessera } from '../../src/index.ts'
import { openai } from '../../src/index.ts'
import { createAppServer } from '../../examples/app/server.ts'
import type { AppServer } from '../../examples/app/server.ts'
import { memoryDb } from '../support/db.ts'
import { squarePng } from '../console/fixtures.ts'
import { fakeServer } from './fake-llm.ts'
import type { FakeServer } from './fake-llm.ts'

// examples/app end to end in Chromium (Debian's, through playwright-core): upload a document and an image, search
// text / hybrid / images, and chat with the agent, the LLM being a fake OpenAI server on 127.0.0.1 that captions
// images, asks for a search tool, and answers from the tool results it is sent back.

setDefaultTimeout(90_000)

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dir, '../../test-artifacts/app')

let db: Tessera
let llm: FakeServer
let appServer: AppServer
let http: ReturnType<typeof Bun.serve>
let browser: BrowserContext
let page: Page
let base = ''

const NOTES = '# Field notes\n\nLava flows downhill and cools into basalt.\n\nTides follow the moon twice a day.\n'

beforeAll(async () => {
  llm = fakeServer((req) => {
    const messages = req.body.messages as { role: string; content: unknown }[]
    const user = messages.find((m) => m.role === 'user')!
    const reply = (message: Record<string, unknown>) => Response.json({ id: 'x', object: 'chat.completion', model: req.body.model, choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', ...message } }] })
    if (Array.isArray(user.content)) return reply({ content: 'a red square with a white circle' }) // vision caption
    const toolResults = messages.filter((m) => m.role === 'tool')
    if (toolResults.length) return reply({ content: `Answer: ${String(toolResults[0]!.content).slice(0, 160)}` })
    if (req.body.tools) {
      const q = String(user.content)
      const call = /picture|image/.test(q)
        ? { id: 'call_i', type: 'function', function: { name: 'search_images', arguments: JSON.stringify({ description: 'red square' }) } }
        : { id: 'call_d', type: 'function', function: { name: 'search_documents', arguments: JSON.stringify({ question: 'lava flows' }) } }
      return reply({ content: null, tool_calls: [call] })
    }
    return reply({ content: 'no tools offered' })
  })
  openai.configure({ baseUrl: `${llm.url}/v1`, apiKey: 'test' })
  db = await memoryDb()
  appServer = await createAppServer({ db })
  http = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: appServer.fetch, idleTimeout: 60 })
  base = `http://127.0.0.1:${http.port}`
  if (!existsSync(CHROMIUM)) return
  mkdirSync(ARTIFACTS, { recursive: true })
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'tessera-app-chromium-')), {
    executablePath: CHROMIUM, headless: true, viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  page = browser.pages()[0] ?? (await browser.newPage())
  page.on('pageerror', (e) => { throw e })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  http?.stop(true)
  await appServer?.close()
  await db?.close()
  llm?.stop()
})

describe.skipIf(!existsSync(CHROMIUM))('example app in chromium', () => {
  test('upload a document and an image: the list shows both, the image with its caption', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-app-files-'))
    writeFileSync(join(dir, 'notes.md'), NOTES)
    writeFileSync(join(dir, 'red.png'), await squarePng('#d33', 96))
    await page.goto(base)
    await page.locator('#upload').setInputFiles([join(dir, 'notes.md'), join(dir, 'red.png')])
    await page.locator('#upload-status', { hasText: 'uploaded 2 files' }).waitFor()
    await page.locator('#files .file.image small', { hasText: 'a red square' }).waitFor()
    expect(await page.locator('#files .file.doc').textContent()).toContain('notes.md')
    expect(await page.locator('#files .file.image img').getAttribute('src')).toStartWith('data:image/')
    expect(await db.getTable('app/chunks').then((t) => t.count())).toBeGreaterThanOrEqual(2)
  })

  test('search: text, hybrid, and images by their caption', async () => {
    await page.locator('#q').fill('lava basalt')
    await page.locator('#search').click()
    await page.locator('#hits .hit').first().waitFor()
    expect(await page.locator('#hits .hit').first().textContent()).toContain('Lava flows downhill')
    await page.locator('#mode').selectOption('hybrid')
    await page.locator('#q').fill('moon tides')
    await page.locator('#search').click()
    await page.locator('#hits .hit', { hasText: 'Tides follow the moon' }).first().waitFor()
    await page.locator('#mode').selectOption('image')
    await page.locator('#q').fill('red square')
    await page.locator('#search').click()
    await page.locator('#hits .hit img').first().waitFor()
    expect(await page.locator('#hits .hit').first().textContent()).toContain('red.png')
    await page.screenshot({ path: join(ARTIFACTS, 'search.png') })
  })

  test('chat: the agent searches the documents (a tool call) and answers from what it found', async () => {
    await page.locator('#question').fill('What do my notes say about lava?')
    await page.locator('#ask').click()
    const answer = page.locator('#turns .turn.assistant p').first()
    await answer.waitFor()
    expect(await answer.textContent()).toContain('Answer: [{"file":"notes.md","text":"Lava flows downhill')
    expect(await page.locator('#turns .tools summary').first().textContent()).toBe('1 search')
    // The final LLM request carried the tool result in the chat wire format.
    const final = llm.seen.filter((s) => s.body.messages.some((m: { role: string }) => m.role === 'tool')).at(-1)!
    expect(final.body.messages.map((m: { role: string }) => m.role)).toEqual(['system', 'user', 'assistant', 'tool'])
    await page.locator('#question').fill('Which picture is red?')
    await page.locator('#ask').click()
    await page.locator('#turns .turn.assistant p', { hasText: 'a red square with a white circle' }).waitFor()
    await page.screenshot({ path: join(ARTIFACTS, 'chat.png') })
  })

  test('the same routes are an API: /openapi.json lists them, MCP lists the agent\'s retrieval functions', async () => {
    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/app/docs', '/api/v1/app/images', '/api/v1/app/search', '/api/v1/app/chat']))
    const bad = await fetch(`${base}/api/v1/app/search`, { method: 'POST', body: JSON.stringify({ q: '' }), headers: { 'content-type': 'application/json' } })
    expect(bad.status).toBe(400)
    const mcp = await fetch(`${base}/api/v1/mcp`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }) })
    const names = ((await mcp.json()) as { result: { tools: { name: string }[] } }).result.tools.map((t) => t.name)
    expect(names).toEqual(expect.arrayContaining(['search_documents', 'search_images', 'similarity_search']))
  })
})
