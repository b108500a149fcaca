import type { PGliteAssets } from '../store/index.ts'
import { realFile } from './assets-real-file.ts'

// Files a single binary carries inside itself. `bun build --compile` embeds only what it sees imported, and PGlite
// and onnxruntime-web load their wasm/data files at run time by path, so build.ts's binary reaches them through
// assets-bun.ts (imports `with { type: 'file' }`). Everywhere else (bun/deno/node on the sources) this returns
// undefined and the packages find their files in node_modules as usual.

/** Real file paths of onnxruntime-web's wasm backend: set `ort.env.wasm.wasmPaths = { wasm, mjs }`. */
export interface OrtWasmPaths {
  readonly wasm: string
  readonly mjs: string
}

export interface EmbeddedAssets {
  /**
   * PGlite's engine, initdb, data files and pgvector bundle, as paths the store reads and compiles in its own thread
   * (the CLI passes them to Tessera.open and to the store worker it prestarts).
   */
  store(): PGliteAssets
  /** Copies (once) onnxruntime-web's wasm files out of the binary, where its loader can read and import them. */
  ortWasm(): Promise<OrtWasmPaths>
  /**
   * Whether onnxruntime-node and sharp work in this binary: build.ts embeds their native libraries for linux-x64
   * (not with --slim or other targets). Without them, onnxruntime-node throws on import (src/inference/ uses
   * onnxruntime-web) and sharp is its WebAssembly build (assets-sharp-wasm.ts).
   */
  readonly nativeAddons: boolean
  /**
   * Writes the binary's ready database (a freshly initialized and migrated data dir, made by build.ts) to `pgdata`
   * with Bun's native tar extraction, so a new data dir starts in well under a second instead of running initdb and
   * the migrations (seconds) or untarring through PGlite's WebAssembly file system (seconds, too). Atomic: the files
   * are written beside it and renamed into place; returns false (writing nothing) when `pgdata` already exists.
   */
  writeDatabaseTemplate(pgdata: string): Promise<boolean>
}

/** True inside a `bun build --compile` binary: its modules live in Bun's embedded file system. */
export function isCompiledBinary(): boolean {
  if (!(globalThis as { Bun?: unknown }).Bun) return false
  const url = import.meta.url
  return url.includes('/$bunfs/') || url.includes('~BUN')
}

let loaded: Promise<EmbeddedAssets> | undefined

/** The embedded assets of a compiled binary, or undefined when running from sources. */
export function embeddedAssets(): Promise<EmbeddedAssets | undefined> {
  if (!isCompiledBinary()) return Promise.resolve(undefined)
  loaded ??= import('./assets-bun.ts').then((m) => m.loadEmbeddedAssets())
  return loaded
}

/**
 * The store assets this process carries: inside a compiled binary the embedded ones (paths), from sources undefined
 * (PGlite finds its files in node_modules). Entry points decide with this and pass the result down (bin/tessera.ts,
 * src/cli/target.ts); the store never looks by itself.
 */
export function embeddedStoreAssets(): Promise<PGliteAssets | undefined> {
  return embeddedAssets().then((assets) => assets?.store())
}

/** How this process can run ONNX models: what src/inference/ asks before importing an onnxruntime package. */
export interface OnnxRuntimeEnv {
  /** onnxruntime-node can be imported (it may still fail to load; the caller falls back to onnxruntime-web). */
  readonly native: boolean
  /** Set inside a binary: onnxruntime-web must be pointed at these files before its first session. */
  readonly wasmPaths?: OrtWasmPaths
}

let onnx: Promise<OnnxRuntimeEnv> | undefined

export function onnxRuntimeEnv(): Promise<OnnxRuntimeEnv> {
  onnx ??= embeddedAssets().then(async (assets) => (assets ? { native: assets.nativeAddons, wasmPaths: await assets.ortWasm() } : { native: true }))
  return onnx
}

/** Model files the binary carries (src/runtime/assets-models.ts). */
export type BundledModelFile = 'ch_PP-OCRv4_det_infer.onnx' | 'ch_PP-OCRv4_rec_infer.onnx' | 'ppocr_keys_v1.txt' | 'silero_vad_v5.onnx'

/**
 * Inside a compiled binary: a real file holding one of the model files it carries (copied out once). From sources:
 * undefined, and the caller finds the file in node_modules. Synchronous (Bun's require), so path helpers can stay so.
 */
export function bundledModelFile(name: BundledModelFile): string | undefined {
  if (!isCompiledBinary()) return undefined
  const { MODEL_FILES } = require('./assets-models.ts') as typeof import('./assets-models.ts')
  return realFile(MODEL_FILES[name], name)
}
