import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { invalid } from '../errors.ts'

// Server settings come from, in order of precedence: command-line flags, TESSERA_* environment variables,
// a config file (--config FILE, else <home>/tessera.json), and defaults. Resolved here only.

const ConfigSchema = v.strictObject({
  port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535))),
  host: v.optional(v.string()),
  auth: v.optional(v.picklist(['required', 'none'])),
  quiet: v.optional(v.boolean()),
  mediaCacheBytes: v.optional(v.pipe(v.number(), v.minValue(0))),
  /** Folders whose files non-admin tokens may reference by local path. */
  mediaRoots: v.optional(v.array(v.string())),
  /** Let non-admin tokens' media URLs reach the server's own networks (loopback, private, link-local). */
  mediaAllowPrivate: v.optional(v.boolean()),
})

export type ServerConfig = v.InferOutput<typeof ConfigSchema>

export function readConfigFile(path: string | undefined, home: string | undefined): ServerConfig {
  const file = path ?? (home ? join(home, 'tessera.json') : undefined)
  if (!file || !existsSync(file)) {
    if (path) throw invalid('INVALID_ARGUMENT', `config file ${path} does not exist`)
    return {}
  }
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (e) {
    throw invalid('INVALID_ARGUMENT', `config file ${file} is not valid JSON: ${(e as Error).message}`)
  }
  const r = v.safeParse(ConfigSchema, raw)
  if (!r.success) {
    const issue = r.issues[0]
    throw invalid('INVALID_ARGUMENT', `config file ${file}: ${issue.path?.map((p) => String(p.key)).join('.') ?? ''} ${issue.message}`)
  }
  return r.output
}

/** flags > TESSERA_* env > config file > defaults. */
export function resolveServerConfig(flags: Record<string, unknown>, file: ServerConfig): Required<Omit<ServerConfig, 'auth' | 'mediaCacheBytes'>> & Pick<ServerConfig, 'auth' | 'mediaCacheBytes'> {
  // --media-root may repeat or hold a comma-separated list; TESSERA_MEDIA_ROOTS is comma-separated too.
  const list = (x: unknown): string[] | undefined => x === undefined ? undefined : (Array.isArray(x) ? x : [x]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean)
  const env = process.env
  const auth = (flags.auth ?? env.TESSERA_AUTH ?? file.auth) as ServerConfig['auth']
  const cache = env.TESSERA_MEDIA_CACHE_BYTES ? Number(env.TESSERA_MEDIA_CACHE_BYTES) : file.mediaCacheBytes
  const rawPort = flags.port ?? env.TESSERA_PORT ?? file.port ?? 8080
  const port = Number(rawPort)
  if (!/^\d+$/.test(String(rawPort).trim()) || port > 65535) {
    throw invalid('INVALID_ARGUMENT', `the port must be a whole number from 0 to 65535 (0: any free port), got '${String(rawPort)}' (from --port, TESSERA_PORT or tessera.json)`)
  }
  return {
    port,
    host: String(flags.host ?? env.TESSERA_HOST ?? file.host ?? '127.0.0.1'),
    quiet: Boolean(flags.quiet ?? (env.TESSERA_QUIET ? env.TESSERA_QUIET === '1' : file.quiet) ?? false),
    mediaRoots: list(flags['media-root']) ?? list(env.TESSERA_MEDIA_ROOTS) ?? file.mediaRoots ?? [],
    mediaAllowPrivate: Boolean(flags['media-allow-private'] ?? (env.TESSERA_MEDIA_ALLOW_PRIVATE ? env.TESSERA_MEDIA_ALLOW_PRIVATE === '1' : file.mediaAllowPrivate) ?? false),
    ...(auth ? { auth } : {}),
    ...(cache !== undefined ? { mediaCacheBytes: cache } : {}),
  }
}
