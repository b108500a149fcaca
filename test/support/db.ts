import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tessera } from '../../src/index.ts'
import { PGliteDriver } from '../../src/store/index.ts'
import { SCHEMA_DIGEST, SCHEMA_VERSION } from '../../src/store/migrations.ts'

// initdb costs ~4 s; a dumped, migrated data dir loads in ~0.6 s. The dump is cached on disk across test files.

const TEMPLATE = join(tmpdir(), `tessera-test-template-v${SCHEMA_VERSION}-${SCHEMA_DIGEST}.tar.gz`)
let template: Promise<Blob> | undefined

export function templateBlob(): Promise<Blob> {
  template ??= (async () => {
    if (existsSync(TEMPLATE)) return new Blob([readFileSync(TEMPLATE)])
    const driver = await PGliteDriver.open({})
    await (await Tessera.fromDriver(driver)).driver.query('select 1')
    const blob = await driver.dump()
    await driver.close()
    const tmp = `${TEMPLATE}.${process.pid}`
    writeFileSync(tmp, new Uint8Array(await blob.arrayBuffer()))
    renameSync(tmp, TEMPLATE)
    return blob
  })()
  return template
}

/** A fresh in-memory database (each call is independent). */
export async function memoryDb(): Promise<Tessera> {
  return Tessera.memory(await templateBlob())
}

export { tempDir } from './temp-dirs.ts'

/** Test data shipped beside the checkout (models, photos); TESSERA_TEST_MODELS overrides. */
export const MODELS_DIR = process.env.TESSERA_TEST_MODELS ?? join(import.meta.dir, '../../../shared/models')

/**
 * Why a test that needs these files under MODELS_DIR cannot run, or undefined when they are all there. The photos and
 * models are test data kept outside the repository: a checkout without them skips those tests and says so once per
 * file, instead of failing on a missing file.
 */
export function modelsMissing(...files: string[]): string | undefined {
  const absent = files.filter((f) => !existsSync(join(MODELS_DIR, f)))
  if (absent.length === 0) return undefined
  const reason = `skipped: test data ${absent.join(', ')} not found under ${MODELS_DIR} (put ../shared/models beside the checkout or set TESSERA_TEST_MODELS)`
  console.warn(reason)
  return reason
}
