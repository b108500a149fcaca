import type { Runtime } from './types.ts'

export type { FileLock, LockHolder, Runtime, RunningServer, ServeOptions } from './types.ts'
export { isAlive, readHolder } from './lock-file.ts'
export { embeddedAssets, isCompiledBinary, onnxRuntimeEnv } from './assets.ts'
export type { EmbeddedAssets, OnnxRuntimeEnv, OrtWasmPaths } from './assets.ts'

export type RuntimeName = Runtime['name']

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown }
  if (g.Bun) return 'bun'
  if (g.Deno) return 'deno'
  return 'node'
}

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
