import { detectRuntime } from './detect.ts'
import type { Runtime } from './types.ts'

export type { FileLock, LockHolder, Runtime, RunningServer, ServeOptions } from './types.ts'
export { isAlive, readHolder } from './lock-file.ts'
export { bundledModelFile, embeddedAssets, embeddedStoreAssets, isCompiledBinary, onnxRuntimeEnv } from './assets.ts'
export type { BundledModelFile, EmbeddedAssets, OnnxRuntimeEnv, OrtWasmPaths } from './assets.ts'

export { detectRuntime } from './detect.ts'
export type { RuntimeName } from './detect.ts'
export { aliasModules } from './module-alias.ts'
export { collectGarbage } from './gc.ts'
export { removeAtExit, removeAtExitNow } from './exit.ts'
export type { ModuleLoader } from './module-alias.ts'

let current: Promise<Runtime> | undefined

/** The adapter for the runtime we run on, imported lazily so bun:ffi is only ever loaded under Bun. */
export function runtime(): Promise<Runtime> {
  current ??= (async () => {
    switch (detectRuntime()) {
      case 'bun': return (await import('./bun.ts')).bunRuntime
      case 'deno': return (await import('./deno.ts')).denoRuntime
      case 'node': return (await import('./node.ts')).nodeRuntime
    }
  })()
  return current
}
