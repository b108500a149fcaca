// Awaited stand-ins for expect(p).rejects / expect(p).resolves. Bun waits for those promises synchronously, and
// that wait does not deliver messages from Workers: with the embedded store in its own thread, an assertion on a
// store call written that way never finishes. test/architecture.test.ts refuses the synchronous forms.

/** A function that throws what `p` rejected with (for toThrow), or returns when it resolved. */
export async function throwing(p: unknown): Promise<() => void> {
  try {
    await (typeof p === 'function' ? (p as () => unknown)() : p)
  } catch (e) {
    return () => {
      throw e
    }
  }
  return () => undefined
}

/** What `p` rejected with; fails when it resolved. */
export async function rejection(p: unknown): Promise<unknown> {
  try {
    await (typeof p === 'function' ? (p as () => unknown)() : p)
  } catch (e) {
    return e
  }
  throw new Error('expected the promise to reject, but it resolved')
}
