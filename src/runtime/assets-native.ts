import { dlopen, FFIType } from 'bun:ffi'
import { realFile } from './assets-real-file.ts'

// Native addons inside a compiled binary (build.ts's native plugin calls this before onnxruntime-node's and sharp's
// addons load). Bun embeds a `.node` addon it sees required and extracts it to a temp file when loaded, but not the
// shared library beside it (libonnxruntime.so.1, libvips-cpp.so.*), which the addon finds through its RUNPATH
// ($ORIGIN/...), i.e. next to that temp file, where it is not. Loading the library first works: the dynamic linker
// satisfies the addon's DT_NEEDED by the soname of the library already loaded.

const loaded = new Map<string, unknown>()

/** dlopens an embedded shared library (copied out to a real file first); `symbol` is any function it exports. */
export function preloadSharedLibrary(embedded: string, fileName: string, symbol: string): void {
  if (loaded.has(fileName)) return
  loaded.set(fileName, dlopen(realFile(embedded, fileName), { [symbol]: { args: [], returns: FFIType.ptr } }))
}
