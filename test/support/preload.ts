import { afterAll } from 'bun:test'
import { removeTempDirs } from './temp-dirs.ts'

// Loaded before every test run (bunfig.toml): hooks here run once for the whole run, after the last test file.
afterAll(() => removeTempDirs())
