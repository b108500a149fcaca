// Public surface of src/console: other folders import it through this file only.
// What other folders import from this one (added by the barrels codemod).
export { CONSOLE_CSS, CONSOLE_HASH, CONSOLE_JS } from './bundle.generated.ts'
