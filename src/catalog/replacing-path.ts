import { TesseraError } from '../errors.ts'

// The temporary path a view replacing another is made and synced under, until it takes its path (src/catalog/replace.ts).

/** In a temporary path: not a name character (src/types/paths.ts), so no user path has it. */
export const REPLACING_MARK = '~replacing~'

/** The path a view replacing `path` is created and synced under, until it takes `path` (unique per replace). */
export function replacingPath(path: string): string {
  return `${path}${REPLACING_MARK}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
}

/** A replacing view's temporary path (not listed: it is either moved to its path or dropped). */
export function isReplacingPath(path: string): boolean {
  return path.includes(REPLACING_MARK)
}

/** An error of the new view's creation, naming the path the user asked for instead of the temporary one. */
export function underUserPath(e: unknown, temp: string, path: string): unknown {
  if (!(e instanceof Error)) return e
  const err = e as { message: string; details?: Record<string, unknown> }
  err.message = err.message.split(temp).join(path)
  if (e instanceof TesseraError && e.details) {
    err.details = Object.fromEntries(Object.entries(e.details).map(([k, v]) => [k, typeof v === 'string' ? v.split(temp).join(path) : v]))
  }
  return e
}
