import { invalid } from '../errors.ts'

// Names a column, an output of a query or a table cannot have, though they pass the identifier rule: rows, records
// and request bodies are plain JavaScript objects keyed by name, and these keys do not hold data there.
// '__proto__' sets an object's prototype instead of a key (a row would store "[object Object]" or nothing), and
// valibot's record and object schemas, which read every HTTP request body, skip '__proto__', 'constructor' and
// 'prototype' keys without a word (a table created over HTTP lost such a column). Refusing them is the one way
// such a name cannot lose data somewhere.

export const RESERVED_NAMES: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype'])

/** Why `name` cannot name a column, output or table, or undefined when it can. */
export function reservedNameProblem(name: string): string | undefined {
  return RESERVED_NAMES.includes(name)
    ? 'a reserved name (a JavaScript object, such as a row or a request body, cannot hold it as an ordinary key, so its values would be lost); choose another name'
    : undefined
}

/** Throws INVALID_NAME for a reserved name (see RESERVED_NAMES); `what` says which name ('column name'). */
export function checkNotReserved(name: string, what = 'name'): string {
  const problem = reservedNameProblem(name)
  if (problem) throw invalid('INVALID_NAME', `invalid ${what} ${JSON.stringify(name)}: ${problem}`, { name })
  return name
}
