// The app's tables, search indexes, agent and service routes: one setup file, applied by server.ts at boot (and by
// `tessera apply` like any setup). Everything the app does is declared here; server.ts only serves it.
import * as v from 'valibot'
import { defineSetup, embedders, image, invokeTools, openai, retrievalFunction, toolMessages, tools } from 'tessera'
import type { Table, Tessera } from 'tessera'

// Any OpenAI-compatible server: TESSERA_OPENAI_BASE_URL (Ollama: http://127.0.0.1:11434/v1) and OPENAI_API_KEY.
const CHAT_MODEL = process.env.APP_CHAT_MODEL ?? 'gpt-4o-mini'
const VISION_MODEL = process.env.APP_VISION_MODEL ?? CHAT_MODEL
const SYSTEM = 'You answer questions about the user\'s uploaded files. Search them with the tools, then answer briefly and name the files you used.'

const SearchParams = v.object({
  q: v.pipe(v.string(), v.minLength(1), v.maxLength(500)),
  mode: v.optional(v.picklist(['text', 'hybrid', 'image']), 'text'),
  k: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(50)), 8),
})
const Upload = (kind: 'doc' | 'image') => v.object({
  id: v.pipe(v.string(), v.uuid()),
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  [kind]: v.pipe(v.string(), v.startsWith('data:'), v.maxLength(20_000_000)),
})

export default defineSetup(async (db) => {
  await db.createDir('app')

  // Documents (text, Markdown, HTML, PDF) → paragraphs of at most 200 words → a lexical embedding index with full text.
  // For meaning rather than shared words: embedders.text('hf:sentence-transformers/all-MiniLM-L6-v2').
  const docs = await db.createTable('app/docs', { id: 'string', name: 'string', doc: 'document' }, { primaryKey: 'id' })
  const chunks = await db.createView('app/chunks', docs, { iterator: { name: 'document_splitter', input: 'doc', args: { separators: 'paragraph,token_limit', limit: 200 } } })
  await chunks.addEmbeddingIndex('text', { embed: embedders.lexical() })

  // Images get a caption from a vision model, so text search finds them, and a thumbnail for the UI.
  const images = await db.createTable('app/images', { id: 'string', name: 'string', image: 'image' }, { primaryKey: 'id' })
  await images.addComputedColumn('thumb', image.thumbnail(images.c.image, 160))
  await images.addComputedColumn('caption', openai.vision('Describe this image in one sentence, for search.', images.c.image, { model: VISION_MODEL }), { onError: 'ignore' })
  await images.addEmbeddingIndex('caption', { embed: embedders.lexical() })

  // Retrieval functions: what the agent (and MCP clients) can search. They look their table up when called.
  const tessera = db.target as unknown as Tessera
  const table = (path: string): Promise<Table> => tessera.getTable(db.path(path))
  const searchDocuments = retrievalFunction({
    name: 'search_documents', description: 'Passages of the uploaded documents most related to a question',
    params: { question: 'string' }, paramDescriptions: { question: 'what to look for, in a few words' },
    query: async ({ question }) => {
      const c = await table('app/chunks')
      const sim = c.c.text.similarity(question)
      return c.orderBy(sim, 'desc').limit(4).select({ file: c.c.name, text: c.c.text, score: sim })
    },
  })
  const searchImages = retrievalFunction({
    name: 'search_images', description: 'Uploaded images whose caption matches a description',
    params: { description: 'string' },
    query: async ({ description }) => {
      const i = await table('app/images')
      const sim = i.c.caption.similarity(description)
      return i.where(i.c.caption.isNotNull()).orderBy(sim, 'desc').limit(3).select({ file: i.c.name, caption: i.c.caption, score: sim })
    },
  })
  const toolbox = tools([searchDocuments, searchImages])

  // The agent as computed columns: question → LLM with tools → tool results → final answer.
  const chat = await db.createTable('app/chat', { id: 'string', question: 'string' }, { primaryKey: 'id' })
  await chat.addComputedColumn('response', openai.chatCompletions(chat.c.question, { model: CHAT_MODEL, system: SYSTEM, tools: toolbox }), { onError: 'ignore' })
  await chat.addComputedColumn('tool_results', invokeTools(toolbox, chat.c.response), { onError: 'ignore' })
  await chat.addComputedColumn('answer', openai.chat(toolMessages(chat.c.question, chat.c.response, chat.c.tool_results), { model: CHAT_MODEL, system: SYSTEM }), { onError: 'ignore' })

  // Service routes, served at /api/v1/app/... with the API's tokens and listed in /openapi.json.
  db.route.insert('/docs', docs, { params: Upload('doc'), returns: ['name'], description: 'Upload a document (data: URL)' })
  db.route.insert('/images', images, { params: Upload('image'), returns: ['name', 'caption', 'thumb'], description: 'Upload an image (data: URL); answers its caption' })
  db.route.call('/files', v.object({}), async (_p, ctx) => {
    const [d, i] = [await ctx.table('app/docs'), await ctx.table('app/images')]
    return {
      docs: (await d.select('id', 'name').orderBy(d.c.name).collect()).rows,
      images: (await i.select('id', 'name', 'caption', 'thumb').orderBy(i.c.name).collect()).rows,
    }
  }, { description: 'The uploaded files' })
  db.route.call('/search', SearchParams, async ({ q, mode, k }, ctx) => {
    if (mode === 'image') {
      const i = await ctx.table('app/images')
      const sim = i.c.caption.similarity(q)
      return (await i.where(i.c.caption.isNotNull()).orderBy(sim, 'desc').limit(k).select({ file: i.c.name, text: i.c.caption, thumb: i.c.thumb, score: sim }).collect()).rows
    }
    const c = await ctx.table('app/chunks')
    if (mode === 'hybrid') return (await c.hybridSearch(q, { column: 'text', k })).rows.map((r: Record<string, unknown>) => ({ file: r.name, text: r.text, score: r.score ?? r.rrf_score ?? null }))
    const sim = c.c.text.similarity(q)
    return (await c.orderBy(sim, 'desc').limit(k).select({ file: c.c.name, text: c.c.text, score: sim }).collect()).rows
  }, { description: 'Search documents (text or hybrid) or images (by caption)' })
  db.route.call('/chat', v.object({ question: v.pipe(v.string(), v.minLength(1), v.maxLength(2000)) }), async ({ question }, ctx) => {
    const t = await ctx.table('app/chat', 'write')
    const id = crypto.randomUUID()
    await t.insert([{ id, question }])
    const [row] = (await t.where(t.c.id.eq(id)).select({ answer: t.c.answer, tools: t.c.tool_results, error: t.c.answer.errormsg, responseError: t.c.response.errormsg }).collect()).rows
    return { id, answer: row.answer, tools: row.tools ?? [], error: row.error ?? row.responseError ?? null }
  }, { description: 'Ask the agent; it searches the files and answers' })
})
