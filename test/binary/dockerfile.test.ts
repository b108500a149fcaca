import { afterAll, describe, expect, test } from 'bun:test'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './build-once.ts'

// The Dockerfile without a container engine (none can run here: no daemon, and the base images cannot be pulled
// without access to a container registry). Its instructions are parsed, and its steps run as a script: the build
// stage in an empty folder (the COPY'd files only, `npm ci` from the lock file, the RUN lines), then the run
// stage's CMD with its ENV, a setup file mounted where the image expects it, the HEALTHCHECK's command, and the
// STOPSIGNAL. What this cannot check: the base images themselves and apt-get in the run stage.

interface Instruction {
  readonly op: string
  readonly args: string
  readonly stage: number
}

/** The Dockerfile's instructions (comments dropped, `\` continuations joined), numbered by build stage. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = []
  let stage = -1
  let pending = ''
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!pending && (line === '' || line.startsWith('#'))) continue
    if (line.startsWith('#')) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const full = (pending + line).trim()
    pending = ''
    const m = full.match(/^([A-Z]+)\s+([\s\S]*)$/)
    if (!m) throw new Error(`Dockerfile: cannot parse '${full}'`)
    if (m[1] === 'FROM') stage++
    out.push({ op: m[1]!, args: m[2]!, stage })
  }
  if (pending) throw new Error('Dockerfile: ends inside a continued line')
  return out
}

const DOCKERFILE = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))
const KNOWN = new Set(['FROM', 'COPY', 'WORKDIR', 'ENV', 'RUN', 'ARG', 'USER', 'VOLUME', 'EXPOSE', 'STOPSIGNAL', 'HEALTHCHECK', 'CMD'])
const of = (op: string, stage?: number) => DOCKERFILE.filter((i) => i.op === op && (stage === undefined || i.stage === stage))

/** ENV lines (`K=V K2=V2` or `K V`) as an object. */
function envOf(stage: number): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { args } of of('ENV', stage)) {
    const pairs = [...args.matchAll(/(\w+)=("[^"]*"|\S*)/g)]
    if (pairs.length === 0) {
      const [k, ...v] = args.split(/\s+/)
      env[k!] = v.join(' ')
    }
    for (const [, k, v] of pairs) env[k!] = v!.replace(/^"|"$/g, '')
  }
  return env
}

const work = mkdtempSync(join(tmpdir(), 'tessera-dockerfile-'))
const children: ReturnType<typeof Bun.spawn>[] = []
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill(9)
  rmSync(work, { recursive: true, force: true })
})

describe('Dockerfile', () => {
  test('parses: two stages, known instructions, COPY sources in the repository, no baked-in setup', () => {
    expect(DOCKERFILE.filter((i) => !KNOWN.has(i.op))).toEqual([])
    expect(of('FROM').map((i) => i.args)).toEqual(['node:22-bookworm-slim AS build', 'debian:bookworm-slim'])
    for (const { args } of of('COPY').filter((i) => !i.args.startsWith('--from'))) {
      const sources = args.split(/\s+/).slice(0, -1)
      for (const s of sources) expect(existsSync(join(ROOT, s))).toBe(true)
    }
    // The run stage gets the binary only, and ffmpeg; the example setup is not copied in.
    expect(of('COPY', 1).map((i) => i.args)).toEqual(['--from=build /out/tessera /usr/local/bin/tessera'])
    expect(of('RUN', 1)[0]!.args).toContain('ffmpeg')
    expect(of('RUN', 0).some((i) => /npm ci\b/.test(i.args))).toBe(true)
    expect(of('HEALTHCHECK')[0]!.args).toContain('${TESSERA_PORT:-8080}')
  })

  // npm ci from the registry, then build.ts: a minute or two, like the image build itself.
  test('the build stage as a script, then the run stage: setup applied, served on $TESSERA_PORT, healthy, stops on its signal', async () => {
    // ---- build stage, in an empty folder: what the COPY lines bring, then each RUN with the stage's ENV and ARGs
    const src = join(work, 'src')
    mkdirSync(src)
    for (const { args } of of('COPY', 0).filter((i) => !i.args.startsWith('--from'))) {
      const parts = args.split(/\s+/)
      const dest = parts.at(-1)!
      for (const s of parts.slice(0, -1)) cpSync(join(ROOT, s), dest.endsWith('/') ? join(src, s) : join(src, dest), { recursive: true })
    }
    // The stage's `COPY --from=oven/bun` puts bun on PATH: here, the bun running this test.
    const bin = join(work, 'bin')
    mkdirSync(bin)
    symlinkSync(process.execPath, join(bin, 'bun'))
    const out = join(work, 'out')
    const buildEnv = { ...process.env, ...envOf(0), PATH: `${bin}:${process.env.PATH}`, BUILD_FLAGS: '' }
    for (const { args } of of('RUN', 0)) {
      const script = args.replaceAll('/out/', `${out}/`)
      const r = Bun.spawnSync(['sh', '-c', script], { cwd: src, env: buildEnv, stdout: 'pipe', stderr: 'pipe' })
      if (r.exitCode !== 0) throw new Error(`RUN ${args} failed:\n${r.stdout.toString()}\n${r.stderr.toString()}`)
    }
    expect(existsSync(join(out, 'tessera'))).toBe(true)

    // ---- run stage: the binary as /usr/local/bin/tessera, ENV from the image, a setup file mounted at $TESSERA_SETUP
    const usrBin = join(work, 'usr-bin')
    mkdirSync(usrBin)
    cpSync(join(out, 'tessera'), join(usrBin, 'tessera'))
    chmodSync(join(usrBin, 'tessera'), 0o755)
    const port = String(20000 + Math.floor(Math.random() * 20000))
    const image = envOf(1)
    const setup = join(work, 'app', 'setup.ts')
    mkdirSync(join(work, 'app'))
    writeFileSync(setup, `import { defineSetup } from 'tessera'\nexport default defineSetup(async (db) => { await db.createDir('app'); await db.createTable('app/notes', { id: 'int', text: 'string' }) })\n`)
    const token = 'dockerfile-test-token-0123456789abcdef'
    const env = { ...image, TESSERA_HOME: join(work, 'data'), TESSERA_PORT: port, TESSERA_SETUP: setup, TESSERA_ADMIN_TOKEN: token, PATH: `${usrBin}:/usr/bin:/bin`, HOME: work, TMPDIR: work }
    const cmd = JSON.parse(of('CMD', 1)[0]!.args) as string[]
    const child = Bun.spawn(cmd, { cwd: work, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    children.push(child)

    // HEALTHCHECK's command, as Docker would run it, until it passes (the image gives it a 60 s start period).
    const health = (JSON.parse(of('HEALTHCHECK')[0]!.args.replace(/^[\s\S]*?CMD\s+/, '')) as string[])
    let healthy = false
    for (let i = 0; i < 600 && !healthy && child.exitCode === null; i++) {
      healthy = Bun.spawnSync(health, { env, stdout: 'ignore', stderr: 'ignore' }).exitCode === 0
      if (!healthy) await Bun.sleep(100)
    }
    if (!healthy) throw new Error(`never healthy: ${await new Response(child.stdout).text()} ${await new Response(child.stderr).text()}`)
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/tables?dir=app`, { headers: { authorization: `Bearer ${token}` } })
    expect(await res.json()).toEqual({ tables: ['app/notes'] })

    child.kill(of('STOPSIGNAL')[0]!.args as NodeJS.Signals)
    expect(await child.exited).toBe(0)
    const log = await new Response(child.stdout).text()
    expect(log).toContain('create table app/notes')
    expect(log).toContain('draining')
  }, 600_000)
})
