import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

// Tessera server processes on one PostgreSQL database, for scale-out tests and bench/scaleout.ts.

export interface ServerProcess {
  readonly url: string
  stop(): Promise<void>
}

const BIN = resolve(import.meta.dir, '../../bin/tessera.ts')

/**
 * Starts `bun bin/tessera.ts serve --database URL --port 0` and waits for its "serving … at http://…" line. A process
 * that exits before saying anything is started once more (seen once in a full-suite run on a loaded machine: exit
 * before the first line, nothing on stderr); a second failure is reported with its exit code.
 */
export async function startServer(database: string, options: { mediaDir?: string } = {}): Promise<ServerProcess> {
  try {
    return await startServerOnce(database, options)
  } catch (e) {
    if (!(e instanceof SilentExit)) throw e
    return startServerOnce(database, options)
  }
}

class SilentExit extends Error {}

async function startServerOnce(database: string, options: { mediaDir?: string }): Promise<ServerProcess> {
  const home = mkdtempSync(join(tmpdir(), 'tessera-scaleout-'))
  const proc = Bun.spawn([process.execPath, BIN, 'serve', '--database', database, '--port', '0', '--home', home, '--auth', 'none', '--quiet',
    ...(options.mediaDir ? ['--media-dir', options.mediaDir] : [])], { stdout: 'pipe', stderr: 'pipe', env: { ...process.env, TESSERA_ADMIN_TOKEN: '' } })
  const reader = proc.stdout.getReader()
  let seen = ''
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const { value, done } = await reader.read()
    if (done) break
    seen += new TextDecoder().decode(value)
    const m = /at (http:\/\/[\d.]+:\d+)/.exec(seen)
    if (m) {
      reader.releaseLock()
      void proc.stdout.pipeTo(new WritableStream()).catch(() => undefined)
      return {
        url: m[1]!,
        stop: async () => {
          proc.kill('SIGTERM')
          await proc.exited
        },
      }
    }
  }
  proc.kill('SIGKILL')
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited])
  if (seen === '' && stderr === '') throw new SilentExit(`tessera serve exited with code ${code} before printing anything`)
  throw new Error(`tessera serve did not start (exit ${code}): ${seen}${stderr}`)
}

/** JSON over HTTP; throws with the server's error body on a non-2xx answer. */
export async function call<T = Record<string, unknown>>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${base}/api/v1${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) })
  const text = await r.text()
  if (!r.ok) throw Object.assign(new Error(`${method} ${path}: ${r.status} ${text}`), { status: r.status, body: text })
  return JSON.parse(text) as T
}
