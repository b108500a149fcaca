import { join } from 'node:path'

// Running the CLI as a user would: `bun bin/tessera.ts <command>` in a child process.

export const BIN = join(import.meta.dir, '../../bin/tessera.ts')

const started: ReturnType<typeof Bun.spawn>[] = []

/** Runs a command to completion. */
export async function runCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([process.execPath, BIN, ...args], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}

/** Starts `tessera serve` and waits for its "serving" line; `output` is what it printed until then. */
export async function startServe(home: string, port: number, ...extra: string[]): Promise<{ proc: ReturnType<typeof Bun.spawn>; output: string }> {
  const proc = Bun.spawn([process.execPath, BIN, 'serve', '--home', home, '--port', String(port), '--quiet', ...extra], { stdout: 'pipe', stderr: 'pipe' })
  started.push(proc)
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let output = ''
  while (!output.includes('serving')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`tessera serve exited: ${output} ${await new Response(proc.stderr).text()}`)
    output += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return { proc, output }
}

/** Kills every server a test file started (afterAll). */
export function killServers(): void {
  for (const p of started) p.kill(9)
}
