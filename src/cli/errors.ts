import { TesseraError } from '../errors.ts'
import { CliError, UsageError } from './command.ts'

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

/**
 * The library's advice in its messages names its options (force: true, parents: true, ifExists: 'ignore'); the
 * CLI says its flags instead. Not for the commands that run the user's code (apply, run), whose calls take the options.
 */
const CLI_WORDING: readonly [RegExp, string][] = [
  [/; pass ifExists: 'ignore' to keep it$/, "; 'tessera mkdir -p' accepts an existing dir"],
  [/; create it first or pass parents: true$/, "; create it first or pass -p (--parents)"],
  [/; create it first with createDir\('([^']*)', \{ parents: true \}\)$/, "; create it first with 'tessera mkdir -p $1' (import: pass -p)"],
  [/; pass force: true to drop it with everything in it$/, '; pass --force to drop it with everything in it'],
  [/; drop them first or pass force: true$/, '; drop them first or pass --force'],
]
const USER_CODE_COMMANDS = new Set(['apply', 'run', 'serve', 'demo'])

function cliWording(message: string, command: string | undefined): string {
  if (command === undefined || USER_CODE_COMMANDS.has(command)) return message
  for (const [from, to] of CLI_WORDING) message = message.replace(from, to)
  return message
}

export function describeFailure(e: unknown, command?: string): CliFailure {
  const error = e as SystemError
  if (e instanceof UsageError) return { message: e.message, exitCode: EXIT.usage, showUsage: true }
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode }
  // A thrown value that is not an Error (`throw {weird: 1}` in a setup file or job) has no message: show the value.
  if (!(e instanceof Error)) return { message: `a value that is not an Error was thrown: ${showThrown(e)} (throw new Error('what went wrong') gives a message)`, exitCode: EXIT.failed }
  if (e instanceof TesseraError) {
    if (e.code === 'DATA_DIR_LOCKED') return { message: e.message, exitCode: EXIT.locked }
    if (e.code === 'UNAUTHORIZED') return { message: `${e.message} (pass --token T or set TESSERA_TOKEN)`, exitCode: EXIT.failed }
    return { message: cliWording(e.message, command), exitCode: EXIT.failed }
  }
  if (typeof error.code === 'string' && error.code.startsWith('ERR_PARSE_ARGS')) return { message: error.message, exitCode: EXIT.usage, showUsage: true }
  const code = error.code ?? (error.cause as SystemError | undefined)?.code
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
  // Only a JSON parser's SyntaxError is bad JSON; others (a regular expression, a setup file's code) are failures.
  if (e instanceof SyntaxError && /JSON/.test(e.message)) return { message: `invalid JSON: ${e.message}`, exitCode: EXIT.usage }
  return { message: `${error.message || error.name || 'unknown error'} (TESSERA_DEBUG=1 shows the stack trace)`, exitCode: EXIT.failed }
}

/** A thrown non-Error, shown as JSON when it can be (cut at 300 characters), else as text. */
function showThrown(value: unknown): string {
  let text: string | undefined
  try {
    text = typeof value === 'object' && value !== null ? JSON.stringify(value) : undefined
  } catch { /* circular: fall back to String */ }
  text ??= typeof value === 'string' ? JSON.stringify(value) : String(value)
  return text.length > 300 ? `${text.slice(0, 299)}…` : text
}
