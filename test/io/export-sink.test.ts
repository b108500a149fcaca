import { expect, test } from 'bun:test'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileSink } from '../../src/io/export/sink.ts'
import { tempDir } from '../support/db.ts'

// A large export waits for 'drain' many times; each wait used to leave an 'error' listener behind, so every export
// past ten waits printed MaxListenersExceededWarning.
test('fileSink: many backpressure waits leave no listeners behind', async () => {
  const warnings: string[] = []
  const onWarning = (w: Error) => warnings.push(w.name)
  process.on('warning', onWarning)
  try {
    const path = join(tempDir(), 'big.bin')
    const sink = fileSink(path)
    const chunk = new Uint8Array(1 << 20).fill(65)
    for (let i = 0; i < 40; i++) await sink.write(chunk)
    await sink.close()
    expect(statSync(path).size).toBe(40 << 20)
    expect(readFileSync(path).subarray(0, 3).toString()).toBe('AAA')
    await Bun.sleep(10)
    expect(warnings).toEqual([])
  } finally {
    process.off('warning', onWarning)
  }
})
