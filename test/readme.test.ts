import { afterAll, expect, test } from 'bun:test'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Table, Tessera } from '../src/index.ts'
import { tempDir } from './support/db.ts'

// The README's library examples, extracted from README.md and run as written, so the README cannot drift from what
// the code does. A block runs when its info string names a group: ```ts test:library. The blocks of one group run
// in README order as one module (a later block uses what an earlier one made); `from 'tessera'` is this checkout's
// src/index.ts and './data' a fresh temporary home. Blocks with placeholders (your service, your model, your files)
// are not marked and not run.

const ROOT = join(import.meta.dir, '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

/** The code of the blocks marked ```ts test:<group>, in README order. */
function blocks(group: string): string[] {
  return [...README.matchAll(/^```ts test:([\w-]+)[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)].filter((m) => m[1] === group).map((m) => m[2]!)
}

/**
 * One module from a group's blocks: their `import { ... } from 'tessera'` lines merged into one import of src/index.ts
 * (ES modules refuse a name imported twice), the rest as written, then an export of the names the test inspects.
 */
function moduleOf(group: string, home: string, inspect: readonly string[]): string {
  const code = blocks(group).join('\n')
  const names = new Set<string>()
  const body = code.replace(/^import \{([^}]*)\} from 'tessera'\n/gm, (_, list: string) => {
    for (const n of list.split(',').map((x) => x.trim()).filter(Boolean)) names.add(n)
    return ''
  })
  const others = body.match(/^import .*$/m)
  if (others) throw new Error(`README block of '${group}' imports something other than 'tessera': ${others[0]}`)
  return [
    `import { ${[...names].join(', ')} } from ${JSON.stringify(join(ROOT, 'src/index.ts'))}`,
    body.replaceAll("'./data'", JSON.stringify(home)),
    `export { ${inspect.join(', ')} }`,
  ].join('\n')
}

async function runGroup<T>(group: string, inspect: readonly string[]): Promise<T> {
  const dir = tempDir('tessera-readme-')
  const file = join(dir, `${group}.ts`)
  writeFileSync(file, moduleOf(group, join(dir, 'data'), inspect))
  return (await import(file)) as T
}

let opened: Tessera | undefined
afterAll(() => opened?.close())

test('README: the library, versions, views and snapshots examples run as written and do what their comments say', async () => {
  expect(blocks('library').length).toBe(3)
  const m = await runGroup<{ db: Tessera; docs: Table; rows: { toObjects(): unknown[] }; v3: Table; cheap: Table; snap: Table }>('library', ['db', 'docs', 'rows', 'v3', 'cheap', 'snap'])
  opened = m.db
  // rows.toObjects()          // [{ id: 2, upper: 'GOODBYE', tag0: null }, { id: 1, ... }]
  expect(m.rows.toObjects()).toEqual([{ id: 2, upper: 'GOODBYE', tag0: null }, { id: 1, upper: 'HELLO WORLD', tag0: 'greeting' }])
  // update recomputed 'upper', upsert inserted row 3, the delete matched nothing; then revert undid the upsert
  expect((await m.docs.orderBy(m.docs.c.id).select('id', 'upper').collect()).rows).toEqual([{ id: 1, upper: 'HI' }, { id: 2, upper: 'GOODBYE' }])
  // the reverted upsert is gone from the history; versions count from 0 (create)
  expect((await m.docs.history()).map((h) => [h.version, h.kind])).toEqual([[3, 'update'], [2, 'add_column'], [1, 'insert'], [0, 'create']])
  // db.get('prod_app/docs:3'): read-only, as of version 3 (after the update, before the upsert)
  expect((await m.v3.orderBy(m.v3.c.id).select('id', 'upper').collect()).rows).toEqual([{ id: 1, upper: 'HI' }, { id: 2, upper: 'GOODBYE' }])
  expect(await m.v3.count()).toBe(2)
  // the view keeps the cheap items and has its own computed column; the snapshot pins the items
  expect((await m.cheap.select('name', 'label').collect()).rows).toEqual([{ name: 'pen', label: 'PEN' }])
  expect(await m.snap.count()).toBe(2)
})
