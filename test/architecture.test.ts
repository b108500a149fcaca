import { expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

// Rules of the codebase that a reviewer would otherwise have to remember, checked over the files themselves.

const ROOT = join(import.meta.dir, '..')

/** A file's code without its comment lines. */
const code = (f: string) => readFileSync(join(ROOT, f), 'utf8').split('\n').filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l)).join('\n')

function files(dir: string, ext = '.ts'): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(ext))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
}

test('tests never use expect(promise).rejects / .resolves: Bun waits for those synchronously and the store worker never answers', () => {
  // The embedded store runs in a Worker; Bun's synchronous wait does not deliver its messages, so such an assertion on
  // a store call hangs until the test times out. test/support/settle.ts has awaited forms (throwing, rejection).
  const offenders = files('test').filter((f) => !f.endsWith('architecture.test.ts')).filter((f) => /\)\s*\.(rejects|resolves)\./.test(code(f)))
  expect(offenders).toEqual([])
})

test('runtime-specific APIs (Bun.*, Deno.*) are used only in src/runtime/ (and the console bundler, a build step)', () => {
  const allowed = (f: string) => f.startsWith('src/runtime/') || f === 'src/console/build-bundle.ts'
  const offenders = files('src').filter((f) => !allowed(f)).filter((f) => /\b(Bun|Deno)\.[a-zA-Z]/.test(code(f)))
  expect(offenders).toEqual([])
})

test('SQL over the versioned row layout (_v_min/_v_max) stays in the catalog, the query compiler and the index layer', () => {
  // Visibility of row versions is the core invariant: it is written in src/catalog (the data-table and commit code),
  // src/query/sql.ts (the readers' predicate) and src/index (the native index's catch-up and candidate queries).
  const allowed = (f: string) => f.startsWith('src/catalog/') || f.startsWith('src/query/') || f.startsWith('src/index/') || f === 'src/store/errors.ts'
  const offenders = files('src').filter((f) => !allowed(f)).filter((f) => /_v_(min|max)/.test(readFileSync(join(ROOT, f), 'utf8')))
  expect(offenders).toEqual([])
})

test('statements over the data tables are written in the data-table layer (src/catalog/data-table/) and the query compiler', () => {
  // Pixeltable keeps its store in one layer; so does Tessera: src/catalog/data-table/ owns the statements over
  // tessera_data.t<id>, the compiler (src/query/) writes the reads. The index layer's statements (native index
  // catch-up, index DDL) live there too (data-table/indexes.ts), handed to src/index as the catalog loads.
  const stillOutside = new Set<string>([])
  const allowed = (f: string) => f.startsWith('src/catalog/data-table/') || f.startsWith('src/query/') || stillOutside.has(f)
  const offenders = files('src').filter((f) => !allowed(f)).filter((f) => /\bdataTable\(/.test(code(f)))
  expect(offenders).toEqual([])
})

test('expression nodes outside src/query are built by the frozen factories (colNode, litNode, fnNode, withArgs), not as object literals', () => {
  // A literal {col}/{lit}/{fn, args} or a spread {...node, args} skips the factories: the node is not frozen, and a
  // shape the factories would refuse (an empty opts, a stray key) goes unnoticed until a check disagrees.
  const NODE_LITERAL = [
    /\{\s*(col|lit)\s*:(?!\s*(string|number|unknown)\b\s*[;,?}])/g, // {col: ...}, {lit: ...}; not a type literal { col: string }
    /\{\s*fn\s*:[^{}]*\bargs\s*:/g, // {fn, args}: an Embedder ({fn, opts, modality}) has no args
    /\{\s*args\s*:[^{}]*\bfn\s*:/g,
    /\{\s*\.\.\.[\w$.]+\s*,\s*(col|lit|fn|args)\s*[:,}]/g, // {...node, args: ...} or {...node, args}: withArgs / colNode
  ]
  // Not expression nodes, or not able to import the factories; each says why.
  const allowed: Record<string, string> = {
    // json-query's map of each node kind to its keys ({ col: [...], lit: [...], fn: [...] }) is not a node.
    'src/api/json-query.ts': 'key lists',
    // The console's bundle is generated from src/console/ui (which builds nodes with the client's factories); it
    // holds the minified client and valibot, whose code is not this rule's concern.
    'src/console/bundle.generated.ts': 'generated',
  }
  const isAllowed = (f: string) => Object.keys(allowed).some((a) => (a.endsWith('/') ? f.startsWith(a) : f === a))
  const offenders = files('src')
    .filter((f) => !f.startsWith('src/query/') && !isAllowed(f))
    .flatMap((f) => {
      // Comment lines blanked, not dropped, so the line numbers are the file's.
      const text = readFileSync(join(ROOT, f), 'utf8').split('\n').map((l) => (/^\s*(\/\/|\*|\/\*)/.test(l) ? '' : l)).join('\n')
      return NODE_LITERAL.flatMap((re) => [...text.matchAll(re)].map((m) => `${f}:${lineOf(text, m.index)} ${m[0].replace(/\s+/g, ' ')}`))
    })
  expect(offenders).toEqual([])
})

// ---- The import graph: folder boundaries (docs/ARCHITECTURE.md) ----
// A folder is a top-level directory of src/ (src/query/nodes/ is part of src/query/); src/index.ts and src/errors.ts
// stand alone. Other folders enter a folder through its index.ts only; folders import each other without cycles (at
// run time: `import type` is erased); and some arrows are forbidden outright. The codemod that routes imports through
// index.ts lives outside the repo (/work/tools/barrels.ts, docs/ARCHITECTURE.md says how to run it).

interface Edge {
  readonly from: string // file, relative to the repo root
  readonly to: string
  /** Erased at run time: `import type`, `export type`, or an `import('...').T` type reference. */
  readonly typeOnly: boolean
  /** `await import(...)`: loaded on demand, not when the importer loads. */
  readonly lazy: boolean
  readonly line: number
}

const STATIC = /^(import|export)([ \t]+type)?[ \t]*(?:\{[^}]*\}|\*[ \t]+as[ \t]+[\w$]+|\*)?[ \t]*(?:from[ \t]*)?['"](\.[^'"\n]+)['"]/gm
const DYNAMIC = /(^|[^\w$.])import\(\s*['"](\.[^'"\n]+)['"]\s*\)(\.[\w$]+)?/gm

function resolveImport(from: string, spec: string): string | undefined {
  const base = resolve(dirname(join(ROOT, from)), spec)
  for (const c of [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')]) if (existsSync(c) && statSync(c).isFile()) return relative(ROOT, c)
  return undefined
}

const lineOf = (text: string, index: number) => text.slice(0, index).split('\n').length

function importEdges(): Edge[] {
  const out: Edge[] = []
  for (const from of files('src').filter((f) => !f.endsWith('.d.ts') && !f.includes('.generated.'))) {
    const text = code(from)
    for (const m of text.matchAll(STATIC)) {
      const to = resolveImport(from, m[3]!)
      if (to?.startsWith('src/')) out.push({ from, to, typeOnly: !!m[2], lazy: false, line: lineOf(text, m.index!) })
    }
    for (const m of text.matchAll(DYNAMIC)) {
      const to = resolveImport(from, m[2]!)
      // import('x').T in a type position is a type reference; (await import('x')) loads x when that code runs.
      if (to?.startsWith('src/')) out.push({ from, to, typeOnly: !!m[3] && !/await\s*\(?\s*$/.test(text.slice(Math.max(0, m.index! - 12), m.index! + m[1]!.length)), lazy: true, line: lineOf(text, m.index!) })
    }
  }
  return out
}

/** 'query' for src/query/**; 'index.ts' / 'errors.ts' for the files at src/ itself. */
const folderOf = (file: string) => file.split('/').length > 2 ? file.split('/')[1]! : file.slice('src/'.length)
const isFolder = (node: string) => !node.endsWith('.ts')
const EDGES = importEdges()
const cross = EDGES.filter((e) => folderOf(e.from) !== folderOf(e.to))
const where = (e: Edge) => `${e.from}:${e.line} -> ${e.to}`

/** Folder -> folders it imports when it loads (no type-only, no lazy imports). */
function runtimeGraph(skip: ReadonlySet<string> = new Set()): Map<string, Set<string>> {
  const g = new Map<string, Set<string>>()
  for (const e of cross) {
    if (e.typeOnly || e.lazy) continue
    const [a, b] = [folderOf(e.from), folderOf(e.to)]
    if (skip.has(`${a} -> ${b}`)) continue
    if (!g.has(a)) g.set(a, new Set())
    g.get(a)!.add(b)
  }
  return g
}

/** A path a -> ... -> b in the graph, or undefined. */
function path(g: Map<string, Set<string>>, a: string, b: string): string[] | undefined {
  const prev = new Map<string, string>([[a, '']])
  const queue = [a]
  while (queue.length) {
    const n = queue.shift()!
    for (const m of [...(g.get(n) ?? [])].sort()) {
      if (prev.has(m)) continue
      prev.set(m, n)
      if (m === b) {
        const p = [b]
        for (let x = n; x !== a; x = prev.get(x)!) p.unshift(x)
        return [a, ...p]
      }
      queue.push(m)
    }
  }
  return undefined
}

function cycles(g: Map<string, Set<string>>): string[] {
  const found = new Set<string>()
  for (const [a, targets] of g) for (const b of targets) {
    const back = path(g, b, a)
    if (back) found.add([a, ...back].join(' -> '))
  }
  return [...found].sort()
}

// Known debts, each with the work that removes it. The test fails on anything new AND on a debt that is gone (remove
// it here then), so the list only shrinks.
// (The last cycle, query -> functions, was paid when the core operators moved into query/.)
const CYCLE_DEBTS = new Set<string>([])
const ARROW_DEBTS = new Set<string>([])
// The HTTP client stays browser-safe (build-client.ts): until the API contract gives it a browser-safe folder, it
// imports the small modules it needs (query/expr.ts, types/column-type.ts), since the barrels bring the whole engine.
const BARREL_EXEMPT = (e: Edge) => e.from.startsWith('src/client/')

test('folders import each other without cycles (at run time)', () => {
  expect(cycles(runtimeGraph(CYCLE_DEBTS))).toEqual([])
  const all = runtimeGraph()
  expect([...CYCLE_DEBTS].filter((d) => { const [a, b] = d.split(' -> '); return !all.get(a!)?.has(b!) })).toEqual([]) // a paid debt: remove it above
})

test('other folders enter a folder only through its index.ts', () => {
  // Inside a cycle (only listed debts are left, the test above checks) a barrel would change the load order (a class
  // used before its module ran), so imports that load code may stay direct there until the cycle is gone; types always
  // go through index.ts.
  const g = runtimeGraph()
  const inDebtCycle = (e: Edge) => !e.typeOnly && !!path(g, folderOf(e.to), folderOf(e.from))
  const bypass = cross.filter((e) => isFolder(folderOf(e.to)) && e.to !== `src/${folderOf(e.to)}/index.ts`)
  const offenders = bypass.filter((e) => !BARREL_EXEMPT(e) && !inDebtCycle(e)).map(where)
  expect(offenders).toEqual([]) // fix: npx bun /work/tools/barrels.ts . (see docs/ARCHITECTURE.md)
})

test('the browser side (client, console) takes only types from the API contract', () => {
  // The contract's schemas run on the server (names, paths and types go through the catalog's own checks), so a value
  // import would pull the engine into the browser bundles; the client and the console import its types only.
  const offenders = cross.filter((e) => ['client', 'console'].includes(folderOf(e.from)) && folderOf(e.to) === 'api' && !e.typeOnly).map(where)
  expect(offenders).toEqual([])
})

test('the layering forbids these arrows (types included)', () => {
  const FORBIDDEN: Record<string, (to: string) => boolean> = {
    store: (to) => ['catalog', 'query', 'server'].includes(to),
    query: (to) => to === 'server',
    catalog: (to) => to === 'server',
    compute: (to) => to === 'server',
    client: (to) => ['catalog', 'store'].includes(to),
    // The console is a browser app: it speaks the HTTP API only (the API contract and the client).
    console: (to) => !['api', 'client'].includes(to),
    inference: (to) => to === 'store',
  }
  const arrows = new Map<string, string[]>()
  for (const e of cross) {
    const [a, b] = [folderOf(e.from), folderOf(e.to)]
    if (!FORBIDDEN[a]?.(b)) continue
    arrows.set(`${a} -> ${b}`, [...(arrows.get(`${a} -> ${b}`) ?? []), where(e)])
  }
  expect([...arrows].filter(([k]) => !ARROW_DEBTS.has(k))).toEqual([])
  expect([...ARROW_DEBTS].filter((d) => !arrows.has(d))).toEqual([]) // a paid debt: remove it above
})
