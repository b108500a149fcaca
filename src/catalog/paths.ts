// The path and name rules live with the types (src/types/paths.ts), where the HTTP client can load them too.
export { baseName, checkName, parentOf, parsePath } from '../types/index.ts'
export type { ParsedPath } from '../types/index.ts'
