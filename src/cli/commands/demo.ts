import { connect } from 'node:net'
import { createDemo } from '../demo-data.ts'
import type { Command } from '../command.ts'
import { DATA_DIR_HELP, DATA_DIR_OPTIONS, out } from '../command.ts'
import { intOption } from '../format.ts'
import { ticker } from '../progress.ts'
import { homeOption, openHome } from '../target.ts'
import { serveCommand } from './serve.ts'

// `tessera demo`: a demo dir (generated images, texts, computed columns, embedding indexes), then the server with
// its web console, so a new user sees the product in one command.

export const demoCommand: Command = {
  name: 'demo',
  summary: 'create a small demo dir and serve the web console on it',
  maxArguments: 0,
  usage: 'tessera demo [--home DIR] [--port 8080] [--reset] [--no-serve]',
  options: { ...DATA_DIR_OPTIONS, port: { type: 'string', short: 'p' }, reset: { type: 'boolean' }, 'no-serve': { type: 'boolean' } },
  help: `Creates demo/... tables (generated images and texts, computed columns, embedding indexes) in the data dir, then
serves the web console on 127.0.0.1. Use a separate data dir: the demo tables are not for production.

options:
${DATA_DIR_HELP}
  -p, --port N       the console's port (default 8080)
  --reset            drop and recreate the demo tables
  --no-serve         create the tables only

examples:
  tessera demo --home ./demo-data
  tessera demo --home ./demo-data --port 9000 --reset`,
  async run(values) {
    const home = homeOption(values)
    const port = String(intOption('--port', String(values.port ?? process.env.TESSERA_PORT ?? 8080), 0, 65535))
    const db = await openHome(values, 'tessera demo')
    const started = performance.now()
    const steps = ticker('demo')
    steps.step('creating tables, images, computed columns and indexes')
    const demo = await createDemo(db, { reset: values.reset === true }).finally(() => steps.stop('done'))
    out(demo.created
      ? `created ${demo.tables.join(', ')} in ${db.home} (${((performance.now() - started) / 1000).toFixed(1)} s)`
      : `${demo.tables.join(', ')} already exist in ${db.home} (--reset recreates them)`)
    await db.close()
    const consoleUrl = (p: string | number) => `http://127.0.0.1:${p}/#/t/${demo.tables[0]}`
    if (values['no-serve']) {
      out(`web console, once served: ${consoleUrl(port)}`)
      out(`start it with: tessera serve${home ? ` --home ${home}` : ''} --port ${port}`)
      return 0
    }
    // The same store settings: serve reads the TESSERA_* variables itself, the flags are handed on.
    const store = Object.fromEntries((['database', 'media-dir', 'media-store'] as const).filter((k) => values[k] !== undefined).map((k) => [k, values[k]]))
    let stopped = false
    const serving = serveCommand.run({ ...(home ? { home } : {}), ...store, port, host: '127.0.0.1' }, []).finally(() => { stopped = true })
    // The console's address once the server answers, not before (a click on it then finds a server).
    if (port !== '0') {
      void (async () => {
        while (!stopped) {
          const up = await listening(Number(port))
          if (up && !stopped) return out(`web console: ${consoleUrl(port)}`)
          await new Promise((r) => setTimeout(r, 100))
        }
      })()
    } else out(`web console: at the address serve prints once listening, path /#/t/${demo.tables[0]}`)
    return serving
  },
}

/** Whether something accepts connections on the port (a TCP connect: no request for the server's log). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}
