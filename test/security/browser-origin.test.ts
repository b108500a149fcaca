import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import type { Browser } from 'playwright-core'
import { chromium } from 'playwright-core'
import type { Tessera } from '../../src/index.ts'
import { runtime } from '../../src/runtime/index.ts'
import { createApp } from '../../src/server/app.ts'
import { memoryDb } from '../support/db.ts'

// Issue 17, finding 5, in a real browser: a page on another localhost port must not change an open (no-token)
// Tessera server, whatever request it builds (a text/plain "simple" POST, a form post, a JSON fetch), while the
// server's own console, same-origin, still works. Debian's chromium through playwright-core; skipped without it.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available) console.warn(`skipping the cross-origin browser test: no chromium at ${CHROMIUM} (set CHROMIUM_PATH)`)

let db: Tessera
let server: { port: number; stop(): Promise<void> }
let attacker: ReturnType<typeof Bun.serve>
let browser: Browser

beforeAll(async () => {
  if (!available) return
  db = await memoryDb()
  const t = await db.createTable('victim', { x: 'int' })
  await t.insert([{ x: 1 }, { x: 2 }])
  server = await (await runtime()).serve(createApp(db).fetch, { port: 0, hostname: '127.0.0.1' })
  const target = `http://127.0.0.1:${server.port}`
  const page = `<!doctype html><html><body><form id="f" method="POST" enctype="text/plain" action="${target}/api/v1/tables/victim/-/delete"><input name='{"all": true, "x": "' value='"}'></form>
<script>
window.results = []
const go = async () => {
  for (const [name, init] of [
    ['text/plain', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"all": true}' }],
    ['no content type', { method: 'POST', mode: 'no-cors', body: '{"all": true}' }],
    ['json with cors', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"all": true}' }],
    ['insert', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"rows": [{"x": 666}]}' }],
  ]) {
    const url = name === 'insert' ? '${target}/api/v1/tables/victim/-/rows' : '${target}/api/v1/tables/victim/-/delete'
    try { await fetch(url, init); window.results.push(name + ': sent') } catch (e) { window.results.push(name + ': ' + e.message) }
  }
  return window.results
}
window.go = go
</script></body></html>`
  attacker = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response(page, { headers: { 'content-type': 'text/html' } }) })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  if (!available) return
  await browser.close()
  attacker.stop(true)
  await server.stop()
  await db.close()
})

describe('the open loopback mode in a browser', () => {
  test.skipIf(!available)('a page on another localhost port changes nothing; the console on the same origin works', async () => {
    const ctx = await browser.newContext()
    const page = await ctx.newPage()
    await page.goto(`http://127.0.0.1:${attacker.port}/`)
    const results = await page.evaluate(() => (window as unknown as { go(): Promise<string[]> }).go())
    expect(results).toHaveLength(4) // each request was made (no-cors ones are opaque to the page, and refused by the server)
    // A cross-site form post (text/plain): the browser navigates to the answer.
    const answer = page.waitForNavigation()
    await page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit())
    await answer
    expect(await page.textContent('body')).toContain('FORBIDDEN')
    const t = await db.getTable('victim')
    expect((await t.collect()).rows).toEqual([{ x: 1 }, { x: 2 }])
    // The console, same origin, lists and reads.
    const own = await ctx.newPage()
    await own.goto(`http://127.0.0.1:${server.port}/#/t/victim`)
    await own.locator('.grid').waitFor({ timeout: 15_000 })
    expect(await own.locator('.grid').textContent()).toContain('2')
    await ctx.close()
  }, 60_000)
})
