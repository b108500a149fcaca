import * as emnapiRuntime from '@emnapi/runtime'
import { createRequire } from 'node:module'
// Written by build.ts for a build without native addons (dist/sharp-wasm/: sharp's wasm32 glue, patched, and its
// wasm); absent from a source checkout, where this file is never loaded.
import gluePath from '../../dist/sharp-wasm/sharp-wasm32.cjs' with { type: 'file' }
import wasmPath from '../../dist/sharp-wasm/sharp-wasm32.wasm' with { type: 'file' }
import { realFile, realFileBeside } from './assets-real-file.ts'

// sharp's WebAssembly build (@img/sharp-wasm32: libvips compiled with emscripten) inside a --slim binary: the same
// sharp API as the native addon, so every image feature works without native libraries. build.ts's wasm plugin
// makes sharp's binding loader (sharp/dist/sharp.mjs) call this. The glue is a CommonJS file that starts its
// thread pool by running itself as a Worker (by file path), and reads its wasm from beside itself: both are copied
// out of the binary to real files first, side by side. The glue's one package import (@emnapi/runtime) is handed
// over through a global because the copied file has no node_modules to resolve it from (build.ts rewrites it).

/** The sharp binding from the wasm build (what `require('@img/sharp-wasm32/sharp.node')` gives). */
export function loadWasmSharp(): unknown {
  const glue = realFile(gluePath, 'sharp-wasm32.cjs')
  realFileBeside(wasmPath, 'sharp-wasm32.wasm', glue)
  ;(globalThis as { __tesseraEmnapiRuntime?: unknown }).__tesseraEmnapiRuntime = emnapiRuntime
  return createRequire(glue)(glue)
}
