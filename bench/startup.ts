// Cold start of the binary: spawn → first /health 200, on a fresh data dir and on an existing one, against a bare
// Bun + PGlite + pgvector + Hono program compiled the same way, measured in the same run (alternating, median of N).
//   npm run build && bun bench/startup.ts [N=5]
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = join(import.meta.dir, '..')
const TESSERA = process.env.TESSERA_BIN ?? join(ROOT, 'dist', 'tessera')
const N = Number(process.argv[2] ?? 5)
if (!existsSync(TESSERA)) throw new Error(`${TESSERA} is missing: run npm run build first`)

const work = mkdtempSync(join(tmpdir(), 'tessera-startup-'))
const BARE = join(work, 'bare')
const built = Bun.spawnSync([process.execPath, 'build', '--compile', '--minify', join(import.meta.dir, 'startup', 'bare.ts'), '--outfile', BARE], { cwd: ROOT, stdout: 'pipe', stderr: 'pipe' })
if (built.exitCode !== 0) throw new Error(`building the bare peer failed: ${built.stderr.toString()}`)

let port = 30000 + Math.floor(Math.random() * 10000)
const env = { HOME: work, TMPDIR: work, PATH: '/usr/bin:/bin' }

/** ms from spawn to the first 200 from /health. */
async function start(cmd: string[]): Promise<number> {
  const p = port++
  const t0 = performance.now()
  const child = Bun.spawn(cmd.map((a) => a.replace('{port}', String(p))), { env, stdout: 'ignore', stderr: 'pipe' })
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${p}/health`).then((r) => r.status === 200, () => false)
    if (ok) break
    if (child.exitCode !== null) throw new Error(`${cmd.join(' ')} exited: ${await new Response(child.stderr).text()}`)
    await Bun.sleep(5)
  }
  const ms = performance.now() - t0
  child.kill('SIGTERM')
  await child.exited
  return ms
}

const tessera = (dir: string) => [TESSERA, 'serve', '--home', dir, '--port', '{port}', '--quiet']
const bare = (dir: string) => [BARE, dir, '{port}']
const runs: Record<string, number[]> = { 'tessera fresh': [], 'bare fresh': [], 'tessera existing': [], 'bare existing': [] }
// Warm the page cache and the binaries' copied-out files once, unmeasured.
await start(tessera(join(work, 'warm-t')))
await start(bare(join(work, 'warm-b', 'pgdata')))
for (let i = 0; i < N; i++) {
  const t = join(work, `t${i}`)
  const b = join(work, `b${i}`)
  runs['tessera fresh']!.push(await start(tessera(t)))
  runs['bare fresh']!.push(await start(bare(join(b, 'pgdata'))))
  runs['tessera existing']!.push(await start(tessera(t)))
  runs['bare existing']!.push(await start(bare(join(b, 'pgdata'))))
}
rmSync(work, { recursive: true, force: true })

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const m = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, median(v)]))
console.log(`cold start to first /health 200, median of ${N} (load ${loadavg().map((x) => x.toFixed(2)).join(' ')})`)
for (const [k, v] of Object.entries(runs)) console.log(`  ${k.padEnd(17)} ${m[k]!.toFixed(0).padStart(6)} ms   runs: ${v.map((x) => x.toFixed(0)).join(', ')}`)
console.log(`  ratio fresh    tessera/bare ${(m['tessera fresh']! / m['bare fresh']!).toFixed(2)}`)
console.log(`  ratio existing tessera/bare ${(m['tessera existing']! / m['bare existing']!).toFixed(2)}`)
