export async function ocrText(_img: unknown): Promise<string> { throw new Error('not yet') }
