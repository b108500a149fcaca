#!/usr/bin/env -S bun --no-install
import { embeddedAssets } from '../src/runtime/index.ts'

// Inside the binary, compiling the embedded database engine (WebAssembly, ~0.4 s) starts now and overlaps with
// loading the CLI's modules, for the commands that open a data dir. From sources this does nothing.
const QUICK = new Set(['help', '--help', '-h', 'version', '--version', 'completion', 'run'])
const argv = process.argv.slice(2)
if (argv[0] && !QUICK.has(argv[0]) && !argv.includes('--url') && !argv.includes('--help')) void embeddedAssets().catch(() => undefined)

const { main } = await import('../src/cli/main.ts')
process.exitCode = await main(argv)
