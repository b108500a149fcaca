import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { invalid } from '../errors.ts'
import { parseS3Url, S3MediaStore, s3SettingsFromEnv } from './s3.ts'
import type { MediaBackend } from './store.ts'
import { MediaStore } from './store.ts'

// A media store chosen by a setting (`--media-store`, TESSERA_MEDIA_STORE, Tessera.open({ mediaStore }), a computed
// column's destination): s3://bucket/prefix for a bucket (credentials and endpoint from the AWS variables), or a
// local folder (a path or file:// URL).

export interface MediaStoreSettings {
  /** Folder for local copies of remote objects. */
  readonly cacheDir: string
  readonly cacheMaxBytes?: number
  /** Environment variables to read AWS settings from (default process.env). */
  readonly env?: Record<string, string | undefined>
}

export function openMediaStore(spec: string, settings: MediaStoreSettings): MediaBackend {
  const s = String(spec ?? '').trim()
  if (/^s3:\/\//i.test(s)) {
    return new S3MediaStore({ ...parseS3Url(s), ...s3SettingsFromEnv(settings.env), cacheDir: settings.cacheDir, ...(settings.cacheMaxBytes !== undefined ? { cacheMaxBytes: settings.cacheMaxBytes } : {}) })
  }
  if (/^file:\/\//i.test(s)) return new MediaStore(fileURLToPath(s))
  if (s.length > 0 && !/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return new MediaStore(resolve(s))
  throw invalid('INVALID_ARGUMENT', `media store '${s.slice(0, 80)}' is neither s3://bucket/prefix nor a local folder`)
}
