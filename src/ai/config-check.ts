import { invalid } from '../errors.ts'

// Provider settings as given to <provider>.configure({...}), openAICompatible(name, {...}) and
// Tessera.open({ providers: { name: {...} } }), checked when given. A key spelt otherwise was dropped without a word,
// and the calls went where the settings in force said: `baseURL` (the OpenAI SDK's spelling) left the calls on
// api.openai.com with the environment's key, where a local server was meant.

const KEYS = ['baseUrl', 'apiKey', 'headers', 'concurrency', 'rateLimit', 'retries', 'timeoutMs', 'embeddingBatchSize'] as const
const RETRY_KEYS = ['max', 'backoffMs', 'maxBackoffMs']

const isObject = (x: unknown): x is Record<string, unknown> => !!x && typeof x === 'object' && !Array.isArray(x)
const shown = (x: unknown) => JSON.stringify(x)?.slice(0, 60) ?? String(x)

function unknownKey(where: string, key: string, known: readonly string[]): never {
  const like = known.find((k) => k.toLowerCase() === key.toLowerCase())
  throw invalid('INVALID_ARGUMENT', `${where}: unknown setting '${key.slice(0, 64)}'${like ? ` (did you mean '${like}'?)` : ''}; settings are ${known.join(', ')}`)
}

function positive(where: string, key: string, value: unknown, integer: boolean): void {
  const ok = typeof value === 'number' && Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value))
  if (!ok) throw invalid('INVALID_ARGUMENT', `${where}: ${key} must be a positive ${integer ? 'integer' : 'number'}, got ${shown(value)}`)
}

/** Throws INVALID_ARGUMENT naming `where` and the setting when `config` is not a provider config. */
export function checkProviderConfig(where: string, config: unknown): void {
  if (!isObject(config)) throw invalid('INVALID_ARGUMENT', `${where}: the settings must be an object ({ baseUrl, apiKey, ... }), got ${shown(config)}`)
  for (const [key, value] of Object.entries(config)) {
    if (!(KEYS as readonly string[]).includes(key)) unknownKey(where, key, KEYS)
    if (value === undefined) continue
    switch (key as (typeof KEYS)[number]) {
      case 'baseUrl': {
        let ok = false
        try {
          ok = typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol)
        } catch { /* not a URL */ }
        // Not the value: a base URL may carry a proxy's user:password.
        if (!ok) throw invalid('INVALID_ARGUMENT', `${where}: baseUrl must be an http(s) URL`)
        break
      }
      case 'apiKey':
        if (typeof value !== 'string') throw invalid('INVALID_ARGUMENT', `${where}: apiKey must be a string`)
        break
      case 'headers':
        if (!isObject(value) || !Object.values(value).every((h) => typeof h === 'string')) throw invalid('INVALID_ARGUMENT', `${where}: headers must be an object of strings`)
        break
      case 'concurrency':
      case 'embeddingBatchSize':
        positive(where, key, value, true)
        break
      case 'timeoutMs':
        positive(where, key, value, false)
        break
      case 'rateLimit':
        if (!isObject(value)) throw invalid('INVALID_ARGUMENT', `${where}: rateLimit must be { perSecond }, got ${shown(value)}`)
        for (const k of Object.keys(value)) if (k !== 'perSecond') unknownKey(`${where} rateLimit`, k, ['perSecond'])
        positive(where, 'rateLimit.perSecond', value.perSecond, false)
        break
      case 'retries':
        if (!isObject(value)) throw invalid('INVALID_ARGUMENT', `${where}: retries must be { max, backoffMs, maxBackoffMs }, got ${shown(value)}`)
        for (const [k, n] of Object.entries(value)) {
          if (!RETRY_KEYS.includes(k)) unknownKey(`${where} retries`, k, RETRY_KEYS)
          const ok = n === undefined || (typeof n === 'number' && Number.isFinite(n) && n >= 0 && (k !== 'max' || Number.isInteger(n)))
          if (!ok) throw invalid('INVALID_ARGUMENT', `${where}: retries.${k} must be a non-negative ${k === 'max' ? 'integer' : 'number'}, got ${shown(n)}`)
        }
        break
    }
  }
}

/** Tessera.open's providers: each provider's settings checked, naming it. */
export function checkProviderConfigs(configs: unknown): void {
  if (configs === undefined) return
  if (!isObject(configs)) throw invalid('INVALID_ARGUMENT', `providers must be an object ({ openai: { baseUrl, apiKey } }), got ${shown(configs)}`)
  for (const [name, config] of Object.entries(configs)) checkProviderConfig(`providers.${name}`, config)
}
