// Importing this module registers every built-in function in the process-wide registry.
import './core.ts'
import './string.ts'
import './json.ts'
import './array.ts'
import './aggregates.ts'
import './math.ts'
import './timestamp.ts'
import './uuid.ts'
import './json-keys.ts'
import './openai.ts'

export { compareValues, sortCompare, valuesEqual } from './compare.ts'
export { evalJsonPath, parseJsonPath } from './json.ts'
