import { afterAll, describe, expect, setDefaultTimeout, test } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '../support/db.ts'
import { dropCreatedDatabases, freshDatabaseUrl, pgSkipReason } from '../store/pg-support.ts'
import { cliIn } from './run-in.ts'

// The store settings every command takes, as `tessera serve` does (README: flags > TESSERA_* environment):
// TESSERA_DATABASE_URL / --database (a PostgreSQL server instead of the data dir's PGlite) and TESSERA_MEDIA_DIR /
// --media-dir (where media files are). Data-dir commands used to ignore both: `apply` went into a throw-away PGlite,
// `backup` left the media out while saying "media": true.

setDefaultTimeout(180_000)
afterAll(dropCreatedDatabases)

const folder = tempDir('tessera-store-settings-')
/** No store setting leaks in from the environment the tests run in. */
const CLEAN = { TESSERA_DATABASE_URL: '', TESSERA_MEDIA_DIR: '', TESSERA_MEDIA_STORE: '', TESSERA_URL: '', TESSERA_TOKEN: '' }
const cli = (args: string[], env: Record<string, string> = {}) => cliIn(folder, args, { env: { ...CLEAN, ...env } })

writeFileSync(join(folder, 'setup.ts'), `import { defineSetup } from 'tessera'
export default defineSetup(async (db) => { await db.createDir('app') })
`)
writeFileSync(join(folder, 'people.csv'), 'id,name\n1,ann\n2,bob\n')
// A document column holding a data: URL: the import stores its bytes in the media store.
writeFileSync(join(folder, 'docs.csv'), `id,doc\n1,"data:text/plain;base64,${btoa('hello media')}"\n`)

const UNREACHABLE = 'postgres://someone:s3cretpw@127.0.0.1:1/nowhere'

describe('TESSERA_DATABASE_URL / --database', () => {
  test('an unreachable database fails every command that opens one, naming it without the password, and creates no PGlite', async () => {
    const home = join(folder, 'never')
    const runs: [string, string[], Record<string, string>][] = [
      ['apply (env)', ['apply', 'setup.ts', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
      ['apply (flag)', ['apply', 'setup.ts', '--home', home, '--database', UNREACHABLE], {}],
      ['ls', ['ls', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
      ['import', ['import', 'people.csv', 'people', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
      ['token create', ['token', 'create', 'x', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
      ['init', ['init', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
      ['gc', ['gc', '--dry-run', '--home', home], { TESSERA_DATABASE_URL: UNREACHABLE }],
    ]
    for (const [what, args, env] of runs) {
      const r = await cli(args, env)
      expect({ what, code: r.code }).toEqual({ what, code: 4 })
      expect(r.stdout).not.toContain('applied')
      expect(r.stderr).toContain('cannot reach the database server postgres://someone:***@127.0.0.1:1/nowhere')
      expect(r.stderr).not.toContain('s3cretpw')
      expect(existsSync(join(home, 'pgdata'))).toBe(false)
    }
  })

  test('backup and restore say they do not work on a PostgreSQL server instead of using a PGlite', async () => {
    const backup = await cli(['backup', join(folder, 'never-backup'), '--home', join(folder, 'never2')], { TESSERA_DATABASE_URL: UNREACHABLE })
    expect(backup.code).toBe(1)
    expect(backup.stderr).toContain('pg_dump')
    expect(existsSync(join(folder, 'never2'))).toBe(false)
    const fake = join(folder, 'fake-backup')
    mkdirSync(fake)
    writeFileSync(join(fake, 'pgdata.tar.gz'), 'not used')
    const restore = await cli(['restore', fake, '--home', join(folder, 'never3')], { TESSERA_DATABASE_URL: UNREACHABLE })
    expect(restore.code).toBe(1)
    expect(restore.stderr).toContain('not into a PostgreSQL server')
    expect(existsSync(join(folder, 'never3'))).toBe(false)
  })

  test('--url and --database together are refused; a --url flag beats TESSERA_DATABASE_URL', async () => {
    const both = await cli(['ls', '--url', 'http://127.0.0.1:1', '--database', UNREACHABLE])
    expect(both.code).toBe(2)
    expect(both.stderr).toContain('either --url')
    const url = await cli(['ls', '--url', 'http://127.0.0.1:1'], { TESSERA_DATABASE_URL: UNREACHABLE })
    expect(url.code).toBe(4)
    expect(url.stderr).toContain('--url')
  })

  const skip = pgSkipReason()
  if (skip) console.warn(skip)
  test.skipIf(skip !== undefined)('apply, import, ls, query and token run on the PostgreSQL server of TESSERA_DATABASE_URL', async () => {
    const database = await freshDatabaseUrl('tessera_cli')
    const home = join(folder, 'pg-home')
    const env = { TESSERA_DATABASE_URL: database }
    const applied = await cli(['apply', 'setup.ts', '--home', home], env)
    expect(applied.code).toBe(0)
    expect(applied.stdout).toContain('applied')
    const imported = await cli(['import', 'people.csv', 'app/people', '--home', home], env)
    expect(imported.code).toBe(0)
    expect((await cli(['ls', '-r', '--home', home], env)).stdout.split('\n')).toEqual(['app/', 'app/people', ''])
    expect((await cli(['query', 'app/people', '--count', '--home', home], env)).stdout.trim()).toBe('2')
    expect((await cli(['token', 'create', 'ci', '--admin', '--home', home], env)).code).toBe(0)
    expect(JSON.parse((await cli(['token', 'list', '--json', '--home', home], env)).stdout).map((t: { name: string }) => t.name)).toEqual(['ci'])
    // Without the setting, the same --home is no data dir: refused, not a new empty one.
    expect((await cli(['token', 'list', '--home', home])).code).toBe(1)
    // The same with the flag, and nothing went into a PGlite in the home folder.
    expect((await cli(['ls', 'app', '--home', home, '--database', database])).stdout).toContain('app/people')
    expect(existsSync(join(home, 'pgdata'))).toBe(false)
    // Applying again changes nothing: it sees what the first apply made.
    expect((await cli(['apply', 'setup.ts', '--home', home], env)).stdout).toContain('nothing to change')
  })
})

describe('TESSERA_MEDIA_DIR / --media-dir', () => {
  test('import stores media there, backup copies them from there (and counts them), restore puts them back there', async () => {
    const home = join(folder, 'media-home')
    const media = join(folder, 'shared-media')
    const env = { TESSERA_MEDIA_DIR: media }
    expect((await cli(['import', 'docs.csv', 'docs', '--type', 'doc:document', '--home', home], env)).code).toBe(0)
    const stored = readdirSync(media, { recursive: true }).map(String).filter((f) => f.endsWith('.txt'))
    expect(stored).toHaveLength(1)
    expect(existsSync(join(home, 'media'))).toBe(false)

    const backupDir = join(folder, 'media-backup')
    const backup = await cli(['backup', backupDir, '--home', home], env)
    expect(backup.code).toBe(0)
    expect(backup.stdout).toContain('1 media files')
    const manifest = JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'))
    expect(manifest).toMatchObject({ media: true, mediaFiles: 1, mediaFrom: media })
    expect(readdirSync(join(backupDir, 'media'), { recursive: true }).map(String).filter((f) => f.endsWith('.txt'))).toHaveLength(1)

    // Restored with another media dir: the files land there, and check finds none missing.
    const restoredMedia = join(folder, 'restored-media')
    const restored = await cli(['restore', backupDir, '--home', join(folder, 'restored'), '--media-dir', restoredMedia])
    expect(restored.code).toBe(0)
    expect(readdirSync(restoredMedia, { recursive: true }).map(String).filter((f) => f.endsWith('.txt'))).toHaveLength(1)
    const check = await cli(['check', '--home', join(folder, 'restored')], { TESSERA_MEDIA_DIR: restoredMedia })
    expect(check.code).toBe(0)
    expect(check.stdout).toContain('media: 1 files')
    expect(check.stdout).toContain('0 missing')
  })

  test('a backup of media in a bucket says they are not in it instead of "media": true with 0 files', async () => {
    const home = join(folder, 'bucket-home')
    expect((await cli(['import', 'people.csv', 'people', '--home', home])).code).toBe(0)
    const backupDir = join(folder, 'bucket-backup')
    const r = await cli(['backup', backupDir, '--home', home], {
      TESSERA_MEDIA_STORE: 's3://some-bucket/prod', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_REGION: 'us-east-1',
    })
    expect(r.code).toBe(0)
    expect(r.stderr).toContain('NOT in this backup')
    expect(r.stdout).toContain('s3://some-bucket/prod')
    expect(JSON.parse(readFileSync(join(backupDir, 'manifest.json'), 'utf8'))).toMatchObject({ media: false, mediaStore: 's3://some-bucket/prod/' })
  })
})
