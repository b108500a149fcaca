import '../functions/index.ts'
import { TesseraError } from '../errors.ts'
import type { Command } from './command.ts'
import { err, out, parseCommandArgs } from './command.ts'
import { COMMANDS } from './commands/index.ts'
import { VERSION } from './version.ts'

function help(): void {
  out(`tessera ${VERSION}: multimodal tables with computed columns, versions and embedding search`)
  out('')
  out('usage: tessera <command> [options]   (tessera <command> --help for its options)')
  out('')
  for (const c of COMMANDS) out(`  ${c.name.padEnd(10)} ${c.summary}`)
  out('')
  out('data dir: --home DIR, else $TESSERA_HOME, else ~/.tessera')
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    help()
    return 0
  }
  if (name === '--version' || name === 'version') {
    out(VERSION)
    return 0
  }
  const cmd: Command | undefined = COMMANDS.find((c) => c.name === name)
  if (!cmd) {
    err(`unknown command '${name}'; run 'tessera help'`)
    return 2
  }
  try {
    const { values, positionals } = parseCommandArgs(cmd, rest)
    if (values.help) {
      out(`usage: ${cmd.usage}`)
      return 0
    }
    return (await cmd.run(values, positionals)) ?? 0
  } catch (e) {
    if (e instanceof TesseraError) {
      err(`error: ${e.message}`)
      return e.code === 'DATA_DIR_LOCKED' ? 3 : 1
    }
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err(`${(e as Error).message}\nusage: ${cmd.usage}`)
      return 2
    }
    throw e
  }
}
