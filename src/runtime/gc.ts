// A full collection of the calling thread's heap, where the runtime offers one (Bun; Node only with --expose-gc).
// Each worker thread has a heap of its own, which a collection on another thread does not touch.
export function collectGarbage(): void {
  const g = globalThis as { gc?: () => void }
  if (typeof Bun !== 'undefined') Bun.gc(true)
  else g.gc?.()
}
