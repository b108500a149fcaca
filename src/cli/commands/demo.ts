import { Tessera } from '../../catalog/index.ts'
import { createDemo } from '../../console/demo-data.ts'
import type { Command } from '../command.ts'
import { HOME_OPTION, out } from '../command.ts'
import { serveCommand } from './serve.ts'

// `tessera demo`: a demo dir (generated images, texts, computed columns, embedding indexes), then the server with
// its web console, so a new user sees the product in one command.

export const demoCommand: Command = {
  name: 'demo',
  summary: 'create a small demo dir and serve the web console on it',
  usage: 'tessera demo [--home DIR] [--port 8080] [--reset] [--no-serve]',
  options: { ...HOME_OPTION, port: { type: 'string', short: 'p' }, reset: { type: 'boolean' }, 'no-serve': { type: 'boolean' } },
  async run(values) {
    const home = values.home ? String(values.home) : undefined
    const port = String(values.port ?? process.env.TESSERA_PORT ?? 8080)
    const db = await Tessera.open({ ...(home ? { home } : {}), command: 'tessera demo' })
    const started = performance.now()
    const demo = await createDemo(db, { reset: values.reset === true })
    out(demo.created
      ? `created ${demo.tables.join(', ')} in ${db.home} (${((performance.now() - started) / 1000).toFixed(1)} s)`
      : `${demo.tables.join(', ')} already exist in ${db.home} (--reset recreates them)`)
    await db.close()
    out(`web console: http://127.0.0.1:${port}/#/t/${demo.tables[0]}`)
    if (values['no-serve']) {
      out(`start it with: tessera serve${home ? ` --home ${home}` : ''} --port ${port}`)
      return 0
    }
    return serveCommand.run({ ...(home ? { home } : {}), port, host: '127.0.0.1' }, [])
  },
}
