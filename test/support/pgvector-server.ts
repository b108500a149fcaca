import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import { PGLiteSocketServer } from '@electric-sql/pglite-socket'

/**
 * PGlite with pgvector behind the PostgreSQL wire protocol on 127.0.0.1: the stand-in for a PostgreSQL server with
 * pgvector in the server-store tests (the test server Debian's postgresql gives has none).
 */
export async function pgvectorServer(): Promise<{ readonly url: string; stop(): Promise<void> }> {
  const pg = await PGlite.create({ extensions: { vector } })
  const port = 20000 + Math.floor(Math.random() * 20000)
  const server = new PGLiteSocketServer({ db: pg, port, host: '127.0.0.1', maxConnections: 100 })
  await server.start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await server.stop()
      await pg.close()
    },
  }
}
