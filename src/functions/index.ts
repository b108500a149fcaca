// Importing this module registers the built-in functions in the process-wide registry (the core operators are
// registered by the registry itself: src/query/operators.ts).
import './string.ts'
import './json.ts'
import './array.ts'
import './aggregates.ts'
import './image.ts'
import './math.ts'
import './timestamp.ts'
import './uuid.ts'
import './json-keys.ts'
import './openai.ts'
import './video.ts'

export { compareValues, sortCompare, valuesEqual } from '../query/index.ts'
export { evalJsonPath, parseJsonPath } from './json.ts'
export { math } from './math.ts'
export { timestamp } from './timestamp.ts'
export { uuid } from './uuid.ts'
export { json } from './json-keys.ts'
export { openai } from './openai.ts'
export { image } from './image.ts'
// What other folders import from this one (added by the barrels codemod).
export { loadSharp, openImage } from './image.ts'
