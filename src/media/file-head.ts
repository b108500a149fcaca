import { open } from 'node:fs/promises'

/** The first `n` bytes of a file (fewer when it is shorter): what its type is sniffed from. */
export async function readFileHead(file: string, n: number): Promise<Uint8Array> {
  const handle = await open(file, 'r')
  try {
    const buf = new Uint8Array(n)
    const { bytesRead } = await handle.read(buf, 0, n, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}
