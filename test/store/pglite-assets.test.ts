import { afterAll, describe, expect, test } from 'bun:test'
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { PGliteDriver } from '../../src/store/index.ts'
import type { PGliteAssets } from '../../src/store/index.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// The store's run-time files come from whoever opens it (the CLI passes the binary's embedded ones), across the
// worker boundary too: each test opens with a copy and then with a broken copy, so a pass means the worker really
// read the file it was given (and not PGlite's own in node_modules).

const PGLITE_DIST = join(import.meta.dir, '..', '..', 'node_modules', '@electric-sql', 'pglite', 'dist')
const VECTOR_BUNDLE = join(import.meta.dir, '..', '..', 'node_modules', '@electric-sql', 'pglite-pgvector', 'dist', 'vector.tar.gz')
const dir = tempDir('tessera-assets-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function copy(from: string, name: string): string {
  const to = join(dir, name)
  copyFileSync(from, to)
  return to
}

function garbage(name: string): string {
  const to = join(dir, name)
  writeFileSync(to, 'not what PGlite expects\n'.repeat(64))
  return to
}

/** An open in the store worker from the migrated template, with these assets; the vector extension is exercised. */
async function distance(assets: PGliteAssets): Promise<number> {
  const driver = await PGliteDriver.open({ loadDataDir: await templateBlob(), assets })
  try {
    const r = await driver.query<{ d: number }>(`select '[1,2,3]'::vector <-> '[1,2,5]'::vector as d`)
    return r.rows[0]!.d
  } finally {
    await driver.close()
  }
}

describe('store assets passed in by the entry point', () => {
  test('the pgvector bundle the worker loads is the path it was given', async () => {
    expect(await distance({ vectorBundlePath: copy(VECTOR_BUNDLE, 'vector-copy.tar.gz') })).toBe(2)
    const broken = garbage('vector-broken.tar.gz')
    expect(await rejection(distance({ vectorBundlePath: broken }))).toBeInstanceOf(Error)
    const missing = join(dir, 'no-such-vector.tar.gz')
    expect(String(await rejection(distance({ vectorBundlePath: missing })))).toContain(missing)
  })

  test('the engine and its data files are read (and compiled) by the worker from the given paths', async () => {
    const wasm = copy(join(PGLITE_DIST, 'pglite.wasm'), 'pglite-copy.wasm')
    const data = copy(join(PGLITE_DIST, 'pglite.data'), 'pglite-copy.data')
    expect(await distance({ pgliteWasmPath: wasm, fsBundlePath: data })).toBe(2)
    const brokenWasm = garbage('pglite-broken.wasm')
    const e = String(await rejection(distance({ pgliteWasmPath: brokenWasm, fsBundlePath: data })))
    expect(e).toContain(brokenWasm)
    expect(e).toContain('not a WebAssembly module')
    // A data-files path that is not PGlite's bundle fails the open too: the worker used it.
    expect(await rejection(distance({ pgliteWasmPath: wasm, fsBundlePath: garbage('pglite-broken.data') }))).toBeInstanceOf(Error)
  })

  test('loaded forms (a compiled WebAssembly.Module, a Blob) cross to the worker in Bun', async () => {
    const pgliteWasmModule = await WebAssembly.compile(readFileSync(join(PGLITE_DIST, 'pglite.wasm')))
    const fsBundle = new Blob([readFileSync(join(PGLITE_DIST, 'pglite.data'))])
    expect(await distance({ pgliteWasmModule, fsBundle })).toBe(2)
    expect(await rejection(distance({ pgliteWasmModule, fsBundle: new Blob(['not a bundle']) }))).toBeInstanceOf(Error)
  })

  test('Tessera.open hands its assets option to the store worker of a data dir', async () => {
    const vectorBundlePath = copy(VECTOR_BUNDLE, 'vector-open.tar.gz')
    const db = await Tessera.open({ home: join(dir, 'home'), restoreFrom: await templateBlob(), assets: { vectorBundlePath } })
    try {
      const r = await db.driver.query<{ d: number }>(`select '[0,0]'::vector <-> '[3,4]'::vector as d`)
      expect(r.rows[0]!.d).toBe(5)
    } finally {
      await db.close()
    }
    // The same data dir, reopened with that file gone: the open names it, so it was the one in use.
    rmSync(vectorBundlePath)
    expect(String(await rejection(Tessera.open({ home: join(dir, 'home'), assets: { vectorBundlePath } })))).toContain(vectorBundlePath)
  })
})
