import { invalid } from '../errors.ts'
import { extForMime } from './sniff.ts'

// data: URLs (RFC 2397): how bytes travel over JSON and HTTP. The form is data:[<type/subtype>][;attr=value]*[;base64],<data>:
// a media type may carry parameters ('text/plain;charset=utf-8'), which an earlier reader refused as "not a path",
// and data without ;base64 is percent-encoded text, whose bad escape ('100%') escaped as a raw URIError naming no row
// or column. Both are answered here: parameters are taken (and ignored: the bytes are stored as given), a bad escape
// is INVALID_MEDIA, which the caller words with the row and column.

const DATA_URL = /^data:([^;,]*)((?:;[^;,=]+=[^;,]*)*)(;base64)?,(.*)$/is

export interface DataUrlBytes {
  readonly bytes: Uint8Array
  /** The file extension of the media type given (png for image/png), when it names one. */
  readonly ext?: string
}

/** The bytes of a data: URL; throws INVALID_MEDIA for a text that starts with data: but is not one. */
export function dataUrlBytes(value: string): DataUrlBytes {
  const m = DATA_URL.exec(value)
  if (!m) throw invalid('INVALID_MEDIA', `'${value.slice(0, 60)}${value.length > 60 ? '…' : ''}' is not a data: URL (data:[<media type>][;<name>=<value>]…[;base64],<data>)`)
  const data = m[4]!
  let bytes: Uint8Array
  if (m[3]) bytes = new Uint8Array(Buffer.from(data, 'base64'))
  else {
    let text: string
    try {
      text = decodeURIComponent(data)
    } catch {
      const at = /%(?![0-9a-f]{2})/i.exec(data)?.index
      throw invalid('INVALID_MEDIA', `the data: URL's text has a bad percent escape${at === undefined ? ' (not UTF-8)' : ` at character ${at} of its data`}: write '%' as %25`)
    }
    bytes = new TextEncoder().encode(text)
  }
  const ext = m[1] ? extForMime(m[1]) : undefined
  return ext ? { bytes, ext } : { bytes }
}
