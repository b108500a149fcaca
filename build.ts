// Builds Tessera as one executable: `bun build.ts` → dist/tessera (linux-x64 unless --target says otherwise).
//
//   bun build.ts                                   dist/tessera for this machine (bun-linux-x64)
//   bun build.ts --target bun-linux-arm64          another platform (Bun fetches that runtime, so once online)
//   bun build.ts --outfile /usr/local/bin/tessera  somewhere else
//   bun build.ts --native-onnx                     also embed onnxruntime-node's libonnxruntime.so (+45 MB,
//                                                  linux-x64 only): native CPU inference instead of wasm
//
// PGlite's wasm/data, the pgvector tarball and onnxruntime-web's wasm are embedded through
// src/runtime/assets-bun.ts. sharp (libvips) is not carried: image decoding needs the sources + node_modules.
import { parseArgs } from 'node:util'
import { statSync } from 'node:fs'
import { join } from 'node:path'

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    target: { type: 'string', default: 'bun-linux-x64' },
    outfile: { type: 'string', default: join(import.meta.dir, 'dist', 'tessera') },
    'native-onnx': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log('usage: bun build.ts [--target bun-linux-x64|bun-linux-arm64|bun-darwin-arm64|...] [--outfile dist/tessera] [--native-onnx]')
  process.exit(0)
}
if (values['native-onnx'] && values.target !== 'bun-linux-x64') {
  console.error('--native-onnx embeds the linux-x64 libonnxruntime.so from node_modules; it only works with --target bun-linux-x64')
  process.exit(2)
}

const started = performance.now()
const result = await Bun.build({
  entrypoints: [join(import.meta.dir, 'bin', 'tessera.ts')],
  // The binary runs in whatever directory it is started from: a stray .env or bunfig.toml there must not change it.
  compile: { target: values.target as Bun.Build.CompileTarget, outfile: values.outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: true,
  sourcemap: 'linked',
  features: values['native-onnx'] ? ['NATIVE_ONNX'] : [],
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const mb = (statSync(values.outfile).size / 1024 / 1024).toFixed(1)
console.log(`built ${values.outfile} (${values.target}${values['native-onnx'] ? ', native onnx' : ''}): ${mb} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`)
