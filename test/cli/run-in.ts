import { BIN } from '../support/cli.ts'

// The CLI run from source as a user would, in a chosen folder (cwd) with chosen environment and stdin.

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export async function cliIn(cwd: string, args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliResult> {
  const p = Bun.spawn([process.execPath, BIN, ...args], {
    cwd,
    stdin: options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin),
    stdout: 'pipe',
    stderr: 'pipe',
    env: { ...process.env, TESSERA_HOME: '', ...options.env },
  })
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited])
  return { code, stdout, stderr }
}
