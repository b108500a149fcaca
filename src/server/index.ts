// Public surface of src/server: other folders import it through this file only.
// What other folders import from this one (added by the barrels codemod).
export { createApp } from './app.ts'
export { Drain } from './drain.ts'
export { requestLimitsFrom } from './request.ts'
export { TokenStore, parseScope } from './tokens.ts'
