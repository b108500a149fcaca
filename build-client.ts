// `npm run build:client`: the HTTP client (src/client/) as plain JavaScript for Node ≥ 18, Deno, Bun and browsers:
// dist/client/index.js (one ES module, its few dependencies inside) and type declarations (tsc, tsconfig.client.json).
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = import.meta.dir
const OUT = join(ROOT, 'dist', 'client')

rmSync(OUT, { recursive: true, force: true })
const result = await Bun.build({
  entrypoints: [join(ROOT, 'src', 'client', 'index.ts')],
  outdir: OUT,
  // 'browser': a Node builtin anywhere in the client's imports fails this build instead of failing in a browser.
  target: 'browser',
  format: 'esm',
})
if (!result.success) {
  for (const log of result.logs) console.error(log)
  process.exit(1)
}
const tsc = Bun.spawnSync([process.execPath, join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.client.json')], { stdout: 'inherit', stderr: 'inherit' })
if (tsc.exitCode !== 0) process.exit(tsc.exitCode ?? 1)
writeFileSync(join(OUT, 'index.d.ts'), "export * from './types/client/index.ts'\n")
console.log(`built ${OUT}: index.js and index.d.ts`)
