import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { applySetup, importUserModule } from '../../src/setup/apply.ts'
import type { SetupTarget } from '../../src/setup/setup-db.ts'
import { templateBlob, tempDir } from '../support/db.ts'
import { rejection } from '../support/settle.ts'

// `tessera apply nofile.ts` (and `tessera run`, `serve --setup`) with a path where there is no file said
// "nofile.ts does not compile (1 error): Cannot find module '…/nofile.ts' imported from …/src/setup/apply.ts":
// a compile error of a file that does not exist, naming Tessera's own module. Now it says there is no such file.

const dir = tempDir('tessera-setup-missing-')
let db: Tessera
beforeAll(async () => {
  db = await Tessera.open({ home: join(dir, 'data'), restoreFrom: await templateBlob() })
})
afterAll(async () => {
  await db.close()
})

test('a setup path with no file, or a folder, is refused as such', async () => {
  const missing = join(dir, 'nofile.ts')
  const e = (await rejection(applySetup(missing, db as unknown as SetupTarget))) as Error & { code?: string }
  expect(e.message).toBe(`${missing}: no such file (looked for ${missing})`)
  expect(e.code).toBe('INVALID_ARGUMENT')
  mkdirSync(join(dir, 'setups'))
  const folder = (await rejection(importUserModule(join(dir, 'setups')))) as Error
  expect(folder.message).toBe(`${join(dir, 'setups')} is a folder; give the TypeScript file to run`)
})
