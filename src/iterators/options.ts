import { checkOptions, optionError } from './registry.ts'

// Iterator options arrive as JSON from anywhere (a view's args, an HTTP body), so a string "64" where a number is
// meant must be refused, not coerced: JavaScript would index it as a string, concatenate it, or compare it as NaN
// (tile_iterator once stepped by 64 - undefined forever). Each iterator declares one rule per option; readOptions
// refuses unknown names and values outside a rule, naming the iterator, the option, what it expects and what it got.

export interface Rule {
  /** What the option must be, as it reads in an error: "a positive integer". */
  readonly expect: string
  ok(value: unknown): boolean
}

const rule = (expect: string, ok: (v: unknown) => boolean): Rule => ({ expect, ok })
const isFinite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

export const finiteNumber = rule('a finite number', isFinite)
export const positiveNumber = rule('a positive number', (v) => isFinite(v) && v > 0)
export const nonNegativeNumber = rule('a finite number >= 0', (v) => isFinite(v) && v >= 0)
export const positiveInt = rule('a positive integer', (v) => Number.isSafeInteger(v) && (v as number) > 0)
export const nonNegativeInt = rule('an integer >= 0', (v) => Number.isSafeInteger(v) && (v as number) >= 0)
export const boolean = rule('true or false', (v) => typeof v === 'boolean')
export const nonEmptyString = rule('a non-empty string', (v) => typeof v === 'string' && v.length > 0)

export const numberFrom = (min: number, max: number): Rule => rule(`a number from ${min} to ${max}`, (v) => isFinite(v) && v >= min && v <= max)

export const oneOf = (...values: readonly string[]): Rule => rule(values.map((x) => `'${x}'`).join(' or '), (v) => typeof v === 'string' && values.includes(v))

/** One value for both axes, or an [x, y] pair. */
export const oneOrPair = (r: Rule): Rule => rule(`${r.expect} or an [x, y] pair of them`, (v) => r.ok(v) || (Array.isArray(v) && v.length === 2 && v.every((x) => r.ok(x))))

/** A comma-separated string or an array of strings. */
export const stringList = rule('a comma-separated string or an array of strings', (v) => typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string')))

/** The options as given, once every name is known and every value present fits its rule. */
export function readOptions<O>(iterator: string, options: unknown, rules: Readonly<Record<string, Rule>>): O {
  checkOptions(iterator, options as object | undefined, Object.keys(rules))
  const o = (options ?? {}) as Record<string, unknown>
  for (const [name, r] of Object.entries(rules)) {
    const v = o[name]
    // Only an absent option takes its default: null is a value, and not one any option takes.
    if (v !== undefined && !r.ok(v)) throw optionError(iterator, `${name} must be ${r.expect}, got ${show(v)}`)
  }
  return o as O
}

/** Refuses options that only mean something in another mode (they would be silently ignored). */
export function refuseOutside(iterator: string, options: Readonly<Record<string, unknown>>, names: readonly string[], where: string): void {
  const given = names.filter((n) => options[n] !== undefined)
  if (given.length > 0) throw optionError(iterator, `${given.map((n) => `'${n}'`).join(', ')} only appl${given.length > 1 ? 'y' : 'ies'} ${where}`)
}

function show(v: unknown): string {
  let s: string
  try {
    s = typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v)
  } catch {
    s = String(v)   // a BigInt, a cycle
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}
