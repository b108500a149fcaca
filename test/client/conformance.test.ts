import { describe } from 'bun:test'
import { connect } from '../../src/client/index.ts'
import type { Tessera } from '../../src/index.ts'
import { createApp } from '../../src/server/app.ts'
import { storeEnabled, SUITES } from '../conformance/index.ts'
import { memoryDb } from '../support/db.ts'

// The conformance suites a third time: through the HTTP client against an in-process server over a fresh embedded
// store (PGlite), so the client, the server and the library answer the same calls alike. Tests that need the
// library itself (UDFs defined in this process, the driver) say so with `local` (test/conformance/make-db.ts).
async function remoteDb(): Promise<Tessera> {
  const db = await memoryDb()
  const app = createApp(db)
  const client = connect('http://127.0.0.1', { fetch: async (req) => app.fetch(req) })
  // close() ends the server's database too: the suites close what they open.
  return Object.assign(client, { close: () => db.close(), remote: true }) as unknown as Tessera
}

const run = storeEnabled('http') ? describe : describe.skip
// The imports suite drives the library's importFile, which reads a file in the process that holds the database; over
// HTTP an import is the streamed import route, tested with the server (test/server/io.test.ts).
const IN_PROCESS_ONLY = new Set(['imports'])
for (const [name, suite] of Object.entries(SUITES)) if (!IN_PROCESS_ONLY.has(name)) run(`http client: ${name}`, () => suite(remoteDb))
