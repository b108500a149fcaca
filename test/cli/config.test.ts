import { afterEach, expect, test } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { readConfigFile, resolveServerConfig } from '../../src/cli/config.ts'
import { tempDir } from '../support/db.ts'

const saved = { ...process.env }
afterEach(() => { process.env = { ...saved } })

test('flags beat TESSERA_* env, env beats the config file, the file beats defaults', () => {
  const home = tempDir()
  writeFileSync(join(home, 'tessera.json'), JSON.stringify({ port: 9001, host: '127.0.0.2', auth: 'required', quiet: true }))
  const file = readConfigFile(undefined, home)
  delete process.env.TESSERA_PORT
  delete process.env.TESSERA_HOST
  delete process.env.TESSERA_AUTH
  delete process.env.TESSERA_MEDIA_ROOTS
  expect(resolveServerConfig({}, file)).toEqual({ port: 9001, host: '127.0.0.2', auth: 'required', quiet: true, mediaRoots: [], mediaAllowPrivate: false })
  process.env.TESSERA_PORT = '9002'
  expect(resolveServerConfig({}, file).port).toBe(9002)
  expect(resolveServerConfig({ port: '9003' }, file).port).toBe(9003)
  expect(resolveServerConfig({}, {})).toEqual({ port: 9002, host: '127.0.0.1', quiet: false, mediaRoots: [], mediaAllowPrivate: false })
  // media roots: repeated flags or a comma list, then TESSERA_MEDIA_ROOTS, then the file
  expect(resolveServerConfig({}, { mediaRoots: ['/srv/a'] }).mediaRoots).toEqual(['/srv/a'])
  process.env.TESSERA_MEDIA_ROOTS = '/srv/b, /srv/c'
  expect(resolveServerConfig({}, { mediaRoots: ['/srv/a'] }).mediaRoots).toEqual(['/srv/b', '/srv/c'])
  expect(resolveServerConfig({ 'media-root': ['/srv/d', '/srv/e,/srv/f'] }, {}).mediaRoots).toEqual(['/srv/d', '/srv/e', '/srv/f'])
})

test('a bad config file is a clear error', () => {
  const home = tempDir()
  writeFileSync(join(home, 'tessera.json'), JSON.stringify({ port: 'eighty' }))
  expect(() => readConfigFile(undefined, home)).toThrow(/tessera.json: port/)
  writeFileSync(join(home, 'tessera.json'), '{nope')
  expect(() => readConfigFile(undefined, home)).toThrow(/not valid JSON/)
  expect(() => readConfigFile(join(home, 'missing.json'), home)).toThrow(/does not exist/)
  expect(readConfigFile(undefined, tempDir())).toEqual({})
})
