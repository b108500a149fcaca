import type { Tessera } from '../catalog/index.ts'
import { embedders } from '../inference/index.ts'
import { call } from '../query/index.ts'

// The `tessera demo` data: a dir with a table of generated images (rendered from SVG with sharp) with computed
// columns and a text index on their captions, and a table of short texts with a lexical index (hybrid search).
// Everything is generated here, so the demo needs no download and no files outside the program.

const COLORS: [string, string][] = [['red', '#e03131'], ['orange', '#f76707'], ['yellow', '#f2c200'], ['green', '#2f9e44'], ['blue', '#1971c2'], ['purple', '#7048e8']]
const SHAPES: Record<string, (fill: string) => string> = {
  circle: (f) => `<circle cx="64" cy="64" r="44" fill="${f}"/>`,
  square: (f) => `<rect x="24" y="24" width="80" height="80" rx="6" fill="${f}"/>`,
  triangle: (f) => `<polygon points="64,18 112,106 16,106" fill="${f}"/>`,
  star: (f) => `<polygon points="64,14 76,50 114,50 83,72 95,110 64,87 33,110 45,72 14,50 52,50" fill="${f}"/>`,
}

const ARTICLES = [
  ['Getting started', 'Create a table, insert rows, and add computed columns that fill themselves in for every new row.'],
  ['Computed columns', 'A computed column is an expression over other columns; when an input changes, the value is recomputed.'],
  ['Versions', 'Every change makes a new table version. Look at the history, read an old version, or revert the latest change.'],
  ['Embedding indexes', 'An embedding index turns text or images into vectors so you can search by similarity instead of exact words.'],
  ['Hybrid search', 'Hybrid search fuses full-text ranking with vector similarity, which helps with rare words and names.'],
  ['Images', 'Image columns store references to files; thumbnails, sizes and rotated copies can be computed columns.'],
  ['Audio', 'Audio columns hold recordings; split them into segments or transcribe them with a local model.'],
  ['Documents', 'PDFs and HTML pages can be split into chunks, and each chunk indexed for retrieval.'],
  ['Errors', 'When a computed value fails, the row is kept and the error type and message are stored in the cell.'],
  ['HTTP API', 'Everything the console does goes through the HTTP API, with expressions sent as JSON trees.'],
  ['Tokens', 'API tokens carry scopes: a token can read or write one dir and everything below it.'],
  ['Background jobs', 'Long backfills run as background jobs with progress you can watch, cancel and resume.'],
]

async function shapePng(shape: string, color: string): Promise<Uint8Array> {
  const sharp = (await import('sharp')).default
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><rect width="128" height="128" fill="#f8f9fa"/>${SHAPES[shape]!(color)}</svg>`
  return new Uint8Array(await sharp(Buffer.from(svg)).png().toBuffer())
}

export interface DemoSummary { readonly created: boolean; readonly tables: string[] }

/** Creates dir `demo` with its tables (nothing happens when it exists, unless `reset` drops it first). */
export async function createDemo(db: Tessera, options: { reset?: boolean; dir?: string } = {}): Promise<DemoSummary> {
  const dir = options.dir ?? 'demo'
  const tables = [`${dir}/shapes`, `${dir}/articles`]
  if ((await db.listDirs('')).includes(dir)) {
    if (!options.reset) return { created: false, tables }
    await db.dropDir(dir, { force: true })
  }
  await db.createDir(dir)

  const shapes = await db.createTable(`${dir}/shapes`, { name: 'string', caption: 'string', image: 'image', meta: 'json?' }, { comment: 'generated shapes (tessera demo)' })
  const rows = []
  for (const [shape] of Object.entries(SHAPES)) {
    for (const [color, hex] of COLORS) {
      rows.push({ name: `${color} ${shape}`, caption: `a ${color} ${shape} on a light background`, image: await shapePng(shape, hex), meta: { shape, color, hex } })
    }
  }
  await shapes.insert(rows)
  await shapes.addComputedColumn('width', call('image_width', [shapes.c.image]))
  await shapes.addComputedColumn('gray', call('image_grayscale', [shapes.c.image]))
  await shapes.addComputedColumn('shout', shapes.c.name.upper())
  await shapes.addEmbeddingIndex('caption', { embed: embedders.lexical(), name: 'captions' })

  const articles = await db.createTable(`${dir}/articles`, { title: 'string', body: 'string' }, { comment: 'short texts (tessera demo)' })
  await articles.insert(ARTICLES.map(([title, body]) => ({ title, body })))
  await articles.addComputedColumn('chars', call('len', [articles.c.body]))
  await articles.addEmbeddingIndex('body', { embed: embedders.lexical(), name: 'bodies' })
  return { created: true, tables }
}
