import { describe, expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { MediaStore, parseMediaRef, formatMediaRef, extensionOf, sniff, wavInfo, decodeWav, encodeWav } from '../../src/media/index.ts'
import { tempDir } from '../support/db.ts'
import { pdf, png, tones } from './fixtures.ts'
import { throwing } from '../support/settle.ts'

describe('MediaStore', () => {
  test('content-addressed files under <dir>/<2 hex>/<sha256>.<ext>, idempotent put, open/exists/delete', async () => {
    const dir = tempDir()
    const store = new MediaStore(dir)
    const bytes = new TextEncoder().encode('hello media')
    const sha = createHash('sha256').update(bytes).digest('hex')
    const ref = await store.put(bytes, 'txt')
    expect(ref).toBe(`media://${sha}.txt`)
    expect(await store.put(bytes, '.TXT')).toBe(ref)
    const file = join(dir, sha.slice(0, 2), `${sha}.txt`)
    expect(await store.path(ref)).toBe(file)
    expect(readFileSync(file, 'utf8')).toBe('hello media')
    expect(readdirSync(join(dir, sha.slice(0, 2)))).toEqual([`${sha}.txt`]) // no temp files left behind
    expect(new TextDecoder().decode(await store.open(ref))).toBe('hello media')
    expect(await store.exists(ref)).toBe(true)
    expect(await store.delete(ref)).toBe(true)
    expect(await store.delete(ref)).toBe(false)
    expect(existsSync(file)).toBe(false)
    await expect(await throwing(store.open(ref))).toThrow(/not in the media store/)
    await expect(await throwing(store.put(bytes, 'bad/ext'))).toThrow(/extension/)
  })
})

describe('references and sniffing', () => {
  test('paths, file:// and http URLs normalize; junk is refused', () => {
    expect(parseMediaRef('file:///tmp/a%20b.png')).toEqual({ kind: 'path', path: '/tmp/a b.png' })
    expect(parseMediaRef('rel/x.jpg')).toEqual({ kind: 'path', path: join(process.cwd(), 'rel/x.jpg') })
    expect(formatMediaRef(parseMediaRef('HTTP://Example.com/a.png?x=1')!)).toBe('http://example.com/a.png?x=1')
    expect(parseMediaRef('media://abc')).toBeUndefined()
    expect(parseMediaRef('mailto:x@y')).toBeUndefined()
    expect(parseMediaRef(`media://${'a'.repeat(64)}.png`)).toEqual({ kind: 'store', scheme: 'media', key: `${'a'.repeat(64)}.png` })
    expect(extensionOf('http://h/x/photo.JPG?size=2')).toBe('jpg')
  })

  test('sniffs images, audio, video containers and documents from their first bytes', async () => {
    expect(sniff(await png(4, 4))).toEqual({ kind: 'image', ext: 'png' })
    expect(sniff(tones([{ hz: 440, sec: 0.1 }]))).toEqual({ kind: 'audio', ext: 'wav' })
    expect(sniff(pdf([['x']]))).toEqual({ kind: 'document', ext: 'pdf' })
    expect(sniff(new TextEncoder().encode('<!DOCTYPE html><p>x'))).toEqual({ kind: 'document', ext: 'html' })
    const mp4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypisom'), 0, 0, 0, 0])
    expect(sniff(mp4)).toEqual({ kind: 'video', ext: 'mp4' })
    expect(sniff(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, ...new TextEncoder().encode('....webm')]))).toEqual({ kind: 'video', ext: 'webm' })
    expect(sniff(new TextEncoder().encode('just text'))).toBeUndefined()
  })

  test('WAV round trip keeps rate, length and samples', () => {
    const wav = tones([{ hz: 440, sec: 0.5 }, { hz: 0, sec: 0.25 }], 8000)
    const info = wavInfo(wav)
    expect(info).toMatchObject({ sampleRate: 8000, channels: 1, bitsPerSample: 16, format: 1 })
    expect(info.durationSec).toBeCloseTo(0.75, 6)
    const back = decodeWav(wav)
    expect(back.channels[0]!.length).toBe(6000)
    expect(back.channels[0]![2]).toBeCloseTo(0.5 * Math.sin((2 * Math.PI * 440 * 2) / 8000), 3)
    expect(Math.max(...back.channels[0]!.slice(4000))).toBe(0)
    const stereo = decodeWav(encodeWav([new Float32Array([0.5, -0.5]), new Float32Array([0.25, 0])], 100))
    expect(stereo.channels.length).toBe(2)
    expect(stereo.channels[1]![0]).toBeCloseTo(0.25, 3)
  })
})
