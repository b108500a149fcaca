import { afterAll } from 'bun:test'
import { removeAtExitNow } from '../../src/runtime/index.ts'
import { removeTempDirs } from './temp-dirs.ts'

// Loaded before every test run (bunfig.toml): hooks here run once for the whole run, after the last test file. The
// test runner emits no 'exit', so what the product removes at exit (its fallback media folder) is removed here too.
afterAll(() => {
  removeTempDirs()
  removeAtExitNow()
})
