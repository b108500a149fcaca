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
}

const defs = new Map<string, IteratorDef<never>>()

export function registerIterator<O>(def: IteratorDef<O>, options: { replace?: boolean } = {}): IteratorDef<O> {
  if (defs.has(def.name) && !options.replace) throw invalid('INVALID_ARGUMENT', `iterator '${def.name}' is already registered`)
  defs.set(def.name, def as IteratorDef<never>)
  return def
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
