import { detectRuntime } from './detect.ts'

// User files that Tessera loads itself (setup files for `tessera apply`, jobs for `tessera run`) import 'tessera'
// and 'tessera/client' as the README shows. Those names must mean the Tessera that is running, wherever the file
// lives: without this, Bun resolves the bare name from the file's folder and, with no node_modules there,
// auto-installs whatever public npm package is called `tessera` and runs its code. Inside a compiled binary there is
// no package on disk at all. Bun's runtime plugins can register virtual modules: the running modules' own
// namespaces become the named module, so no resolution (and no install) happens for these names.

export type ModuleLoader = () => Promise<Record<string, unknown>>

let registered: Promise<boolean> | undefined

/**
 * Makes each specifier load the given module namespace in files imported afterwards. Returns false where the
 * runtime has no way to do it (Deno: it resolves 'tessera' through package.json / node_modules as usual).
 * The first call wins; later calls return its outcome.
 */
export function aliasModules(modules: Readonly<Record<string, ModuleLoader>>): Promise<boolean> {
  registered ??= (async () => {
    if (detectRuntime() !== 'bun') return false
    const namespaces = await Promise.all(Object.entries(modules).map(async ([name, load]) => [name, { ...(await load()) }] as const))
    Bun.plugin({
      name: 'tessera-self',
      setup(build) {
        for (const [name, exports] of namespaces) build.module(name, () => ({ exports, loader: 'object' }))
      },
    })
    return true
  })()
  return registered
}
