import { invalid, TesseraError } from '../errors.ts'
import { readMedia, uploadedBytes } from '../media/index.ts'

// Image inputs for models: bytes, or any media reference an image column stores (a path, a file:// URL, an
// http(s) URL fetched once into the media cache, or an uploaded media:// file), read through the media layer;
// or a data: URL.

export async function imageBytes(ref: unknown): Promise<Uint8Array> {
  const given = uploadedBytes(ref) // bytes, or a data: URL (how bytes travel over HTTP)
  if (given) return given.bytes
  if (typeof ref !== 'string' || ref === '') throw invalid('INVALID_MEDIA', `expected an image (bytes, path or URL), got ${typeof ref}`)
  try {
    return await readMedia(ref)
  } catch (e) {
    if (e instanceof TesseraError && (e.code === 'INVALID_MEDIA' || e.code === 'FORBIDDEN')) throw e
    throw invalid('INVALID_MEDIA', `cannot read image ${ref.slice(0, 200)}: ${(e as Error).message}`, { media: ref.slice(0, 200) })
  }
}
