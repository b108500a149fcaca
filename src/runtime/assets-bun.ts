import { feature } from 'bun:bundle'
import { chmodSync, existsSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import initdbWasmPath from '../../node_modules/@electric-sql/pglite/dist/initdb.wasm' with { type: 'file' }
import pgliteDataPath from '../../node_modules/@electric-sql/pglite/dist/pglite.data' with { type: 'file' }
import pgliteWasmPath from '../../node_modules/@electric-sql/pglite/dist/pglite.wasm' with { type: 'file' }
import vectorBundle from '../../node_modules/@electric-sql/pglite-pgvector/dist/vector.tar.gz' with { type: 'file' }
import ortMjsPath from '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs' with { type: 'file' }
import ortWasmPath from '../../node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm' with { type: 'file' }
// Written by build.ts before it compiles (a migrated data dir, dumped); absent from a source checkout, where this
// file is never loaded.
import databaseTemplatePath from '../../dist/template/pgdata.tar.gz' with { type: 'file' }
import type { PGliteAssets } from '../store/index.ts'
import type { EmbeddedAssets, OrtWasmPaths } from './assets.ts'
import { realFile } from './assets-real-file.ts'

// Bun only, and only inside a compiled binary (assets.ts checks; Deno rejects this import attribute): the
// `with { type: 'file' }` imports make `bun build --compile` embed these files and yield their /$bunfs/ paths.
// The paths go through node_modules because neither package exports its dist/ files.

let ort: Promise<OrtWasmPaths> | undefined
let store: PGliteAssets | undefined

export async function loadEmbeddedAssets(): Promise<EmbeddedAssets> {
  return {
    // Paths, not compiled modules: compiling PGlite's 9 MB of WebAssembly is most of an existing data dir's start,
    // and the store worker does it on its own thread from the moment it is told where (src/store/pglite/worker.ts).
    // Its readFileSync reads the binary's /$bunfs/ files from any thread.
    store() {
      store ??= {
        pgliteWasmPath,
        initdbWasmPath,
        fsBundlePath: pgliteDataPath,
        // PGlite streams the extension tarball from a path; Bun cannot stream from inside the binary.
        vectorBundlePath: realFile(vectorBundle, 'pgvector.tar.gz'),
      }
      return store
    },
    ortWasm() {
      ort ??= Promise.resolve({ wasm: realFile(ortWasmPath, 'ort-wasm-simd-threaded.wasm'), mjs: realFile(ortMjsPath, 'ort-wasm-simd-threaded.mjs') })
      return ort
    },
    // build.ts sets NATIVE_ADDONS when it embeds onnxruntime-node's and sharp's native libraries (linux-x64).
    nativeAddons: feature('NATIVE_ADDONS') ? true : false,
    writeDatabaseTemplate,
  }
}

async function writeDatabaseTemplate(pgdata: string): Promise<boolean> {
  if (existsSync(pgdata)) return false
  const partial = join(dirname(pgdata), `.pgdata-template-${process.pid}`)
  rmSync(partial, { recursive: true, force: true })
  try {
    await new Bun.Archive(readFileSync(databaseTemplatePath)).extract(partial)
    chmodSync(partial, 0o700)   // what initdb gives a data dir
    renameSync(partial, pgdata)
    return true
  } catch (e) {
    rmSync(partial, { recursive: true, force: true })
    // Another process wrote it first (the data dir lock then decides which one runs).
    if (existsSync(pgdata)) return false
    throw e
  }
}
