#!/usr/bin/env -S bun --no-install
// For the commands that open a data dir, the embedded store's worker starts first: it loads and compiles the
// database engine (WebAssembly, ~0.4 s inside the binary) while this thread loads the CLI's modules. This entry point
// decides which engine: the binary's embedded one, or (from sources) none, and PGlite uses its own in node_modules;
// the CLI opens the data dir with the same assets (src/cli/target.ts).
const QUICK = new Set(['help', '--help', '-h', 'version', '--version', 'completion', 'run'])
const argv = process.argv.slice(2)
const opensDataDir = argv[0] && !QUICK.has(argv[0]) && !argv.some((a) => a === '--url' || a === '--help' || a === '--database' || a.startsWith('--database=')) && !process.env.TESSERA_DATABASE_URL
if (opensDataDir) {
  const [{ prestartStoreWorker }, { embeddedStoreAssets }] = await Promise.all([import('../src/store/index.ts'), import('../src/runtime/index.ts')])
  prestartStoreWorker(embeddedStoreAssets())
}

const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(argv)

export {}   // a module (top-level await), exporting nothing
