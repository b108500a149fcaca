import { invalid, notFound } from '../errors.ts'

// Iterators turn one input value into many rows (chunks, tiles, frames, audio segments). Each is a plain async
// generator plus a description of the columns it yields, so a view can name one by string with JSON arguments:
// `iterator: { name: 'document_splitter', args: { separators: 'heading,token_limit', limit: 256 } }`.

export type IteratorRow = Record<string, unknown> & { readonly pos: number }

export interface IteratorDef<O = Record<string, unknown>> {
  readonly name: string
  /** Columns each output row has besides `pos` (0-based position within the input), as column type strings. */
  readonly outputs: Readonly<Record<string, string>>
  /** Type of the input value ('document', 'string', 'image', 'audio', 'video'). */
  readonly input: string
  run(input: unknown, options?: O): AsyncIterable<IteratorRow>
  /** The option names it takes: any other name is refused (an option is never silently ignored). */
  readonly options?: readonly string[]
  /**
   * Output columns not stored but computed when read, per the options (unstored video frames): a registered
   * function over 'input' (the view's input column) and other outputs by name. run() does not yield them.
   */
  onRead?(options: O | undefined): Readonly<Record<string, OnReadColumn>>
  /**
   * Checks the options' names, types and ranges, throwing INVALID_ARGUMENT that names the option (see options.ts).
   * registerIterator runs it when a view is made and before run() yields a row, so run() may trust its options.
   */
  check?(options: unknown): void
}

export interface OnReadColumn {
  readonly type: string
  readonly fn: string
  readonly args: readonly string[]
}

const defs = new Map<string, IteratorDef<never>>()

export function registerIterator<O>(def: IteratorDef<O>, options: { replace?: boolean } = {}): IteratorDef<O> {
  if (defs.has(def.name) && !options.replace) throw invalid('INVALID_ARGUMENT', `iterator '${def.name}' is already registered`)
  const checked = withCheck(def)
  defs.set(def.name, checked as IteratorDef<never>)
  return checked
}

/**
 * The iterator with its option check run first. The catalog calls onRead(args) when it makes a view (src/catalog/
 * views.ts viewMd), before any base row is expanded, so checking there refuses a bad option at createView even over
 * an empty base table, and over HTTP as a 400, instead of at the first insert (or, for a step that never advances,
 * never). run() checks again for callers that run an iterator directly.
 */
function withCheck<O>(def: IteratorDef<O>): IteratorDef<O> {
  const check = def.check
  if (!check) return def
  return {
    ...def,
    async *run(input, options) {
      check(options)
      yield* def.run(input, options)
    },
    onRead(options) {
      check(options)
      return def.onRead?.(options) ?? {}
    },
  }
}

export function getIterator(name: string): IteratorDef {
  const def = defs.get(name)
  if (!def) throw notFound('NOT_FOUND', `unknown iterator '${name}'; iterators are: ${[...defs.keys()].sort().join(', ')}`, { iterator: name })
  return def as unknown as IteratorDef
}

export function listIterators(): string[] {
  return [...defs.keys()].sort()
}

/** Collects an iterator's rows (tests, previews). */
export async function collectRows(rows: AsyncIterable<IteratorRow>): Promise<IteratorRow[]> {
  const out: IteratorRow[] = []
  for await (const r of rows) out.push(r)
  return out
}

export const optionError = (iterator: string, message: string) => invalid('INVALID_ARGUMENT', `${iterator}: ${message}`, { iterator })

/** Refuses option names an iterator does not take, naming them and the ones it does. */
export function checkOptions(iterator: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined || options === null) return
  if (typeof options !== 'object' || Array.isArray(options)) throw optionError(iterator, `options must be an object, got ${JSON.stringify(options)}`)
  const unknown = Object.keys(options).filter((k) => !known.includes(k) && (options as Record<string, unknown>)[k] !== undefined)
  if (unknown.length > 0) throw optionError(iterator, `unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; it takes ${known.map((k) => `'${k}'`).join(', ')}`)
}
