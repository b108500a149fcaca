import { afterAll, expect, test } from 'bun:test'
import { Tessera } from '../../src/index.ts'
import { anthropic, gemini, openai, openAICompatible } from '../../src/ai/index.ts'
import { tempDir } from '../support/db.ts'
import { throwing } from '../support/settle.ts'
import { fakeServer } from './fake-llm.ts'

// Provider settings are checked when given. A misspelt key was dropped without a word and the calls went where the
// settings in force said: openai.configure({ baseURL }) (the OpenAI SDK's spelling) left them on the default
// endpoint with the environment's key, where a local server was meant.

const local = fakeServer(() => Response.json({ choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'local' } }] }))
afterAll(() => local.stop())

test('configure() refuses an unknown setting, naming it and the one meant', async () => {
  const before = openai.client.config
  const wrong = await throwing(() => openai.configure({ baseURL: `${local.url}/v1` } as never))
  expect(wrong).toThrow("openai.configure(): unknown setting 'baseURL' (did you mean 'baseUrl'?); settings are baseUrl, apiKey, headers, concurrency, rateLimit, retries, timeoutMs, embeddingBatchSize")
  expect(openai.client.config).toBe(before)
  expect(await throwing(() => anthropic.configure({ api_key: 'k' } as never))).toThrow("anthropic.configure(): unknown setting 'api_key'")
  expect(await throwing(() => gemini.configure({ retries: { max: 2, backoff: 5 } } as never))).toThrow("gemini.configure() retries: unknown setting 'backoff'")
})

test('configure() refuses values that cannot be settings, naming the setting', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ baseUrl: 'ftp://host/v1' }, 'baseUrl must be an http(s) URL'],
    [{ baseUrl: 'not a url' }, 'baseUrl must be an http(s) URL'],
    [{ apiKey: 42 }, 'apiKey must be a string'],
    [{ headers: { 'x-org': 1 } }, 'headers must be an object of strings'],
    [{ concurrency: 0 }, 'concurrency must be a positive integer, got 0'],
    [{ concurrency: 2.5 }, 'concurrency must be a positive integer, got 2.5'],
    [{ embeddingBatchSize: -1 }, 'embeddingBatchSize must be a positive integer, got -1'],
    [{ timeoutMs: 0 }, 'timeoutMs must be a positive number, got 0'],
    [{ rateLimit: { perSecond: 0 } }, 'rateLimit.perSecond must be a positive number, got 0'],
    [{ retries: { max: 1.5 } }, 'retries.max must be a non-negative integer, got 1.5'],
  ]
  for (const [config, message] of cases) expect(await throwing(() => openai.configure(config as never))).toThrow(`openai.configure(): ${message}`)
  expect(await throwing(() => openAICompatible('cfg_check', { baseUrl: `${local.url}/v1`, apiKey: 7 } as never))).toThrow("openAICompatible('cfg_check'): apiKey must be a string")
})

test("Tessera.open refuses a database's provider settings it cannot use, before opening the data dir", async () => {
  const home = tempDir()
  const wrong = await throwing(Tessera.open({ home, providers: { openai: { baseURL: `${local.url}/v1` } as never } }))
  expect(wrong).toThrow("providers.openai: unknown setting 'baseURL' (did you mean 'baseUrl'?)")
  // Nothing was left open or locked: the same data dir opens with the right spelling, and its calls go there.
  const db = await Tessera.open({ home, providers: { openai: { baseUrl: `${local.url}/v1`, apiKey: 'k' } } })
  try {
    const t = await db.createTable('q', { id: 'int', p: 'string' })
    await t.insert([{ id: 1, p: 'hi' }])
    expect((await t.select({ a: openai.chat(t.c.p, { model: 'm' }) }).collect()).rows).toEqual([{ a: 'local' }])
  } finally {
    await db.close()
  }
})
