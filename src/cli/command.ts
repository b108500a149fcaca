import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'

// A CLI command: its options (node:util parseArgs), a one-line summary for `tessera help`, and run().

export interface Command {
  readonly name: string
  readonly summary: string
  readonly usage: string
  readonly options: NonNullable<ParseArgsConfig['options']>
  run(values: Record<string, string | boolean | string[] | boolean[] | undefined>, positionals: string[]): Promise<number | void>
}

export const HOME_OPTION = { home: { type: 'string', short: 'd' } } as const

export function parseCommandArgs(cmd: Command, argv: string[]) {
  return parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
}

export const out = (line = ''): void => void process.stdout.write(line + '\n')
export const err = (line = ''): void => void process.stderr.write(line + '\n')
