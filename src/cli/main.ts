import '../functions/index.ts'
import type { Command } from './command.ts'
import { err, out, parseCommandArgs, UsageError } from './command.ts'
import { COMMANDS } from './commands/index.ts'
import { describeFailure, EXIT } from './errors.ts'
import { VERSION } from './version.ts'

function help(): void {
  out(`tessera ${VERSION}: multimodal tables with computed columns, versions and embedding search`)
  out('')
  out('usage: tessera <command> [options]   (tessera <command> --help for its options and examples)')
  out('')
  for (const c of COMMANDS) out(`  ${c.name.padEnd(10)} ${c.summary}`)
  out('')
  out('data dir: --home DIR, else $TESSERA_HOME, else ~/.tessera; a running server: --url URL [--token T]')
  out('exit codes: 0 done, 1 failed, 2 wrong usage, 3 data dir in use by another process, 4 server unreachable')
}

export function commandHelp(cmd: Command): string {
  return [`usage: ${cmd.usage}`, '', cmd.summary, ...(cmd.help ? ['', cmd.help] : [])].join('\n')
}

/** `tessera help | head` closes stdout early: that is not an error. */
function quietOnClosedPipe(): void {
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0)
    throw e
  }
  process.stdout.on('error', onError)
  process.stderr.on('error', onError)
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe()
  try {
    return await dispatch(argv)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') return EXIT.ok
    throw e
  }
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    const about = rest[0] ? COMMANDS.find((c) => c.name === rest[0]) : undefined
    if (about) out(commandHelp(about))
    else help()
    return EXIT.ok
  }
  if (name === '--version' || name === 'version') {
    out(VERSION)
    return EXIT.ok
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name)
  if (!cmd) {
    err(`unknown command '${name}'; run 'tessera help'`)
    return EXIT.usage
  }
  try {
    const { values, positionals } = parseCommandArgs(cmd, rest)
    if (values.help) {
      out(commandHelp(cmd))
      return EXIT.ok
    }
    if (cmd.maxArguments !== undefined && positionals.length > cmd.maxArguments) {
      const extra = positionals[cmd.maxArguments]!
      throw new UsageError(`unexpected argument '${extra}': 'tessera ${cmd.name}' takes ${cmd.maxArguments === 0 ? 'no arguments' : cmd.maxArguments === 1 ? 'one argument' : `${cmd.maxArguments} arguments`}`)
    }
    return (await cmd.run(values, positionals)) ?? EXIT.ok
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EPIPE') throw e
    if (process.env.TESSERA_DEBUG === '1') console.error(e)
    const failure = describeFailure(e, cmd.name)
    err(`error: ${failure.message}`)
    if (failure.showUsage) err(`usage: ${cmd.usage}`)
    return failure.exitCode
  }
}
