export { applySetup, defineSetup, importUserModule } from './apply.ts'
export type { ApplyResult, SetupFn } from './apply.ts'
export { SetupDb, SetupTable } from './setup-db.ts'
export { currentEnv, resolveEnvPath } from './env.ts'
