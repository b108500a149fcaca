import { existsSync, readFileSync } from 'node:fs'

// The files PGlite loads at run time (its engine, initdb, its data files, pgvector's bundle) as the entry point hands
// them over: the store never looks for them itself. From sources nobody passes any and PGlite finds its own in
// node_modules; the binary's entry point passes the ones it carries (src/runtime/assets.ts).

/**
 * PGlite's run-time files, each either loaded (a compiled module, a Blob) or as a path to a real file. Paths are the
 * form that crosses to the store worker in every runtime (plain strings) and let the worker compile the engine on
 * its own thread; Bun's postMessage also clones WebAssembly.Module and Blob, other runtimes may refuse them.
 */
export interface PGliteAssets {
  readonly pgliteWasmModule?: WebAssembly.Module
  /** pglite.wasm (9 MB): compiled in the thread that runs the store, once per path. */
  readonly pgliteWasmPath?: string
  readonly initdbWasmModule?: WebAssembly.Module
  /** initdb.wasm: compiled only for a data dir that has no database yet and no dump to start from. */
  readonly initdbWasmPath?: string
  readonly fsBundle?: Blob
  /** pglite.data, PGlite's share/ and lib/ files. */
  readonly fsBundlePath?: string
  /** A real file path of pgvector's vector.tar.gz (Bun cannot stream a file from inside a compiled binary). */
  readonly vectorBundlePath?: string
}

/** What PGlite.create takes: every path read (and compiled) into its loaded form. */
export interface LoadedAssets {
  readonly pgliteWasmModule?: WebAssembly.Module
  readonly initdbWasmModule?: WebAssembly.Module
  readonly fsBundle?: Blob
  readonly vectorBundlePath?: string
}

const compiled = new Map<string, Promise<WebAssembly.Module>>()
const bundles = new Map<string, Blob>()

/** Compiles a wasm file once per path in this thread: a prepare() and the open() that follows share one compile. */
function compileFile(what: string, path: string): Promise<WebAssembly.Module> {
  let module = compiled.get(path)
  if (!module) {
    module = (async () => {
      const bytes = readAsset(what, path)
      try {
        return await WebAssembly.compile(bytes)
      } catch (e) {
        throw new Error(`the store's ${what} at ${path} is not a WebAssembly module PGlite can run: ${e instanceof Error ? e.message : String(e)}`)
      }
    })()
    // A failed compile is not kept: the next open (after the file is fixed) tries again.
    module.catch(() => compiled.delete(path))
    compiled.set(path, module)
  }
  return module
}

function readAsset(what: string, path: string): Uint8Array<ArrayBuffer> {
  try {
    return readFileSync(path) as Uint8Array<ArrayBuffer>
  } catch (e) {
    throw new Error(`the store's ${what} at ${path} cannot be read: ${e instanceof Error ? e.message : String(e)}`)
  }
}

/** PGlite's data files as the Blob it takes, read once per path in this thread. */
function readBundle(path: string): Blob {
  let blob = bundles.get(path)
  if (!blob) bundles.set(path, (blob = new Blob([readAsset('data files (fsBundlePath)', path)])))
  return blob
}

/**
 * Starts compiling the engine before the data dir is opened (the store worker, as soon as the entry point names the
 * assets), so the compile overlaps with everything the serving thread still loads. Errors surface at open.
 */
export function prepareAssets(assets: PGliteAssets): void {
  if (assets.pgliteWasmPath && !assets.pgliteWasmModule) compileFile('engine (pgliteWasmPath)', assets.pgliteWasmPath).catch(() => undefined)
  // Read while the engine compiles (on the runtime's compiler threads), not after.
  if (assets.fsBundlePath && !assets.fsBundle) {
    try {
      readBundle(assets.fsBundlePath)
    } catch {
      // reported by the open that needs it
    }
  }
}

/** The assets PGlite.create is given; initdb is compiled only when it will run. */
export async function loadAssets(assets: PGliteAssets | undefined, needsInitdb: boolean): Promise<LoadedAssets> {
  if (!assets) return {}
  const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
    assets.pgliteWasmModule ?? (assets.pgliteWasmPath ? compileFile('engine (pgliteWasmPath)', assets.pgliteWasmPath) : undefined),
    assets.initdbWasmModule ?? (assets.initdbWasmPath && needsInitdb ? compileFile('initdb (initdbWasmPath)', assets.initdbWasmPath) : undefined),
  ])
  // PGlite streams the bundle only while it starts, and then fails without naming it.
  if (assets.vectorBundlePath && !existsSync(assets.vectorBundlePath)) throw new Error(`the store's pgvector bundle (vectorBundlePath) ${assets.vectorBundlePath} does not exist`)
  const fsBundle = assets.fsBundle ?? (assets.fsBundlePath ? readBundle(assets.fsBundlePath) : undefined)
  return {
    ...(pgliteWasmModule ? { pgliteWasmModule } : {}),
    ...(initdbWasmModule ? { initdbWasmModule } : {}),
    ...(fsBundle ? { fsBundle } : {}),
    ...(assets.vectorBundlePath ? { vectorBundlePath: assets.vectorBundlePath } : {}),
  }
}
