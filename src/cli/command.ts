import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

// A CLI command: its options (node:util parseArgs), a one-line summary for `tessera help`, the text of
// `tessera <command> --help` (what it does, its options, examples), and run(). Adding a command is a file exporting
// one of these plus one line in commands/index.ts.

export type OptionValues = Record<string, string | boolean | string[] | boolean[] | undefined>

export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: NonNullable<ParseArgsConfig['options']>
  /** Options and examples for `--help` (indented lines); commands without it show usage and summary only. */
  readonly help?: string
  run(values: OptionValues, positionals: string[]): Promise<number | void>
}

export const HOME_OPTION = { home: { type: 'string', short: 'd' } } as const
/** A data dir (--home) or a running server (--url with --token, or TESSERA_URL / TESSERA_TOKEN). */
export const TARGET_OPTIONS = { ...HOME_OPTION, url: { type: 'string' }, token: { type: 'string' } } as const
export const JSON_OPTION = { json: { type: 'boolean' } } as const

export const TARGET_HELP = `  -d, --home DIR     the data dir (default $TESSERA_HOME, else ~/.tessera); it must not be open in another process
  --url URL          a running server instead (default $TESSERA_URL), e.g. http://127.0.0.1:8080
  --token T          its API token (default $TESSERA_TOKEN)`

export function parseCommandArgs(cmd: Command, argv: string[]) {
  return parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
}

/** The exit code for wrong usage (unknown flag, missing argument). */
export const USAGE = 2

/** Thrown for wrong usage: main prints the message and the command's usage line, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export const out = (line = ''): void => void process.stdout.write(line + '\n')
export const err = (line = ''): void => void process.stderr.write(line + '\n')
