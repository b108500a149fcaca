import { expect, test } from 'bun:test'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'

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
