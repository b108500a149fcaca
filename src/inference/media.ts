import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { invalid } from '../errors.ts'

// Image inputs for models: bytes, a local path, a file:// URL, or an http(s) URL (image columns store references).

export async function imageBytes(ref: unknown): Promise<Uint8Array> {
  if (ref instanceof Uint8Array) return ref
  if (ref instanceof ArrayBuffer) return new Uint8Array(ref)
  if (typeof ref !== 'string' || ref === '') throw invalid('INVALID_MEDIA', `expected an image (bytes, path or URL), got ${typeof ref}`)
  if (/^https?:\/\//i.test(ref)) {
    const res = await fetch(ref)
    if (!res.ok) throw invalid('INVALID_MEDIA', `cannot fetch image ${ref}: HTTP ${res.status}`, { media: ref })
    return new Uint8Array(await res.arrayBuffer())
  }
  const path = ref.startsWith('file://') ? fileURLToPath(ref) : ref
  try {
    return new Uint8Array(await readFile(path))
  } catch (e) {
    throw invalid('INVALID_MEDIA', `cannot read image ${ref}: ${(e as Error).message}`, { media: ref })
  }
}
