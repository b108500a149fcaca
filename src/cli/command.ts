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
  /**
   * How many arguments (non-option words) the command takes at most; one more is refused by name: a word the command
   * never reads is a mistake the user should hear about (a path typed twice, an option without its dashes).
   * Commands that read their own extra words (query's JSON, run's job args) leave it out.
   */
  readonly maxArguments?: number
  /** Options and examples for `--help` (indented lines); commands without it show usage and summary only. */
  readonly help?: string
  run(values: OptionValues, positionals: string[]): Promise<number | void>
}

export const HOME_OPTION = { home: { type: 'string', short: 'd' } } as const
/**
 * Where the store and its media are, as `tessera serve` takes them: a PostgreSQL server instead of the data dir's
 * embedded one (--database, $TESSERA_DATABASE_URL), and the media folder or bucket (--media-dir, $TESSERA_MEDIA_DIR;
 * --media-store, $TESSERA_MEDIA_STORE). Every command that opens the store takes them (src/cli/target.ts).
 */
export const STORE_OPTIONS = { database: { type: 'string' }, 'media-dir': { type: 'string' }, 'media-store': { type: 'string' } } as const
/** A data dir (--home, with the store options) opened in this process. */
export const DATA_DIR_OPTIONS = { ...HOME_OPTION, ...STORE_OPTIONS } as const
/** A data dir (--home) or a running server (--url with --token, or TESSERA_URL / TESSERA_TOKEN). */
export const TARGET_OPTIONS = { ...DATA_DIR_OPTIONS, url: { type: 'string' }, token: { type: 'string' } } as const
export const JSON_OPTION = { json: { type: 'boolean' } } as const

/** The --help lines of STORE_OPTIONS. */
export const STORE_HELP = `  --database URL     a PostgreSQL server instead of the data dir's database ($TESSERA_DATABASE_URL), as serve's
  --media-dir DIR    where media files are, when not <home>/media ($TESSERA_MEDIA_DIR)
  --media-store S    or an s3://bucket/prefix (or a folder) holding them ($TESSERA_MEDIA_STORE)`

export const DATA_DIR_HELP = `  -d, --home DIR     the data dir (default $TESSERA_HOME, else ~/.tessera); it must not be open in another process
${STORE_HELP}`

export const TARGET_HELP = `${DATA_DIR_HELP}
  --url URL          a running server instead (default $TESSERA_URL), e.g. http://127.0.0.1:8080
  --token T          its API token (default $TESSERA_TOKEN)`

export function parseCommandArgs(cmd: Command, argv: string[]) {
  const options: NonNullable<ParseArgsConfig['options']> = { ...cmd.options, help: { type: 'boolean', short: 'h' } }
  const parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true, tokens: true })
  // parseArgs keeps the last of a repeated flag: `--primary-key id --primary-key x` imported with x alone. A flag
  // that takes one value is refused when given twice; repeatable ones say so (multiple: true).
  const seen = new Set<string>()
  for (const t of parsed.tokens) {
    if (t.kind !== 'option' || options[t.name]?.multiple || options[t.name]?.type === 'boolean') continue
    if (seen.has(t.name)) throw new UsageError(`--${t.name} was given twice; give it once`)
    seen.add(t.name)
  }
  return { values: parsed.values as OptionValues, positionals: parsed.positionals }
}

/** The exit code for wrong usage (unknown flag, missing argument). */
export const USAGE = 2

/** Thrown for wrong usage: main prints the message and the command's usage line, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** A failure the CLI explains in its own words (one line, no stack trace hint), with its exit code (default 1). */
export class CliError extends Error {
  override readonly name = 'CliError'
  constructor(message: string, readonly exitCode = 1, options?: { cause?: unknown }) {
    super(message, options)
  }
}

export const out = (line = ''): void => void process.stdout.write(line + '\n')
export const err = (line = ''): void => void process.stderr.write(line + '\n')
