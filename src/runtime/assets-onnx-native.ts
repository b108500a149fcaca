import { dlopen, FFIType } from 'bun:ffi'
import soPath from '../../node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1' with { type: 'file' }
import { realFile } from './assets-real-file.ts'

// Only in binaries built with `--native-onnx` (linux-x64). Bun embeds onnxruntime_binding.node because it sees it
// required, but not libonnxruntime.so.1 beside it, which the addon finds through RUNPATH=$ORIGIN, and $ORIGIN is
// the temp file Bun extracts the addon to. Loading the library first works: the dynamic linker satisfies the
// addon's DT_NEEDED by the already-loaded library's soname.

let lib: unknown

export async function preloadOnnxRuntime(): Promise<void> {
  lib ??= dlopen(realFile(soPath, 'libonnxruntime.so.1'), { OrtGetApiBase: { args: [], returns: FFIType.ptr } })
}
