import { TesseraError } from '../errors.ts'
import { UsageError } from './command.ts'

// Every failure a CLI user sees is one line saying what went wrong and what to do (no stack traces; set
// TESSERA_DEBUG=1 for them), and a documented exit code:
//   0 done · 1 failed (an error, or `check` found problems) · 2 wrong usage · 3 data dir in use · 4 server unreachable

export const EXIT = { ok: 0, failed: 1, usage: 2, locked: 3, unreachable: 4 } as const

export interface CliFailure {
  readonly message: string
  readonly exitCode: number
  /** Print the command's usage line after the message. */
  readonly showUsage?: boolean
}

type SystemError = Error & { code?: string; syscall?: string; path?: string; port?: number; cause?: unknown }

export function describeFailure(e: unknown): CliFailure {
  const error = e as SystemError
  if (e instanceof UsageError) return { message: e.message, exitCode: EXIT.usage, showUsage: true }
  if (e instanceof TesseraError) {
    if (e.code === 'DATA_DIR_LOCKED') return { message: e.message, exitCode: EXIT.locked }
    if (e.code === 'UNAUTHORIZED') return { message: `${e.message} (pass --token T or set TESSERA_TOKEN)`, exitCode: EXIT.failed }
    return { message: e.message, exitCode: EXIT.failed }
  }
  if (error?.code?.startsWith('ERR_PARSE_ARGS')) return { message: error.message, exitCode: EXIT.usage, showUsage: true }
  const code = error?.code ?? (error?.cause as SystemError | undefined)?.code
  switch (code) {
    case 'ConnectionRefused':
    case 'ECONNREFUSED':
      return { message: `cannot reach the server: connection refused (is \`tessera serve\` running at that --url?)`, exitCode: EXIT.unreachable }
    case 'ConnectionClosed':
    case 'ECONNRESET':
      return { message: 'the server closed the connection; check its log', exitCode: EXIT.unreachable }
    case 'FailedToOpenSocket':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { message: `cannot reach the server: ${error.message} (check the host in --url)`, exitCode: EXIT.unreachable }
    case 'EADDRINUSE':
      return { message: `port ${error.port ?? ''} is already in use: stop what listens there or choose another with --port`.replace('port  is', 'the port is'), exitCode: EXIT.failed }
    case 'EACCES':
    case 'EPERM':
      return { message: `permission denied${error.path ? `: ${error.path}` : ''}${error.syscall === 'listen' ? ' (ports below 1024 need privileges: use --port 8080)' : ''}`, exitCode: EXIT.failed }
    case 'ENOENT':
      return { message: `no such file or directory${error.path ? `: ${error.path}` : ''}`, exitCode: EXIT.failed }
    case 'ENOTDIR':
      return { message: `not a directory${error.path ? `: ${error.path}` : ''} (--home and output folders must be directories)`, exitCode: EXIT.failed }
    case 'ENOSPC':
      return { message: 'no space left on the device', exitCode: EXIT.failed }
  }
  if (e instanceof SyntaxError) return { message: `invalid JSON: ${e.message}`, exitCode: EXIT.usage }
  return { message: `${error?.message ?? String(e)} (TESSERA_DEBUG=1 shows the stack trace)`, exitCode: EXIT.failed }
}
