import { AsyncLocalStorage } from 'node:async_hooks'

// A stop signal for long computations: a background job's batch (src/catalog/jobs.ts) runs its computed-column
// evaluation under one, so that a cancel, a close or a drop of its table stops the calls to UDFs and models that have
// not started yet, while the calls already answered keep their values (the job writes them). It travels ambiently,
// since the evaluation between the job and the calls (computed-column planning, the expression evaluator, providers)
// has no parameter for it. The provider client (src/ai/client.ts) passes it on to its requests, so a stop also aborts
// the provider calls in flight (their rows stay not done, like the calls never made) instead of waiting for them. A
// user's UDF is not handed it (stopSignal() is not in the public surface): its calls in flight finish.

/** The errortype a stopped row's cell error has (evalCells names a cell's error by its error's name). */
export const STOPPED = 'StoppedError'

/** A call not made because its computation was stopped: its row is not done (a resumed job computes it). */
export class StoppedError extends Error {
  override readonly name: string = STOPPED
  constructor(message = 'not computed: the computation was stopped (cancelled) before this call was made') {
    super(message)
  }
}

const current = new AsyncLocalStorage<AbortSignal>()

/** Runs `fn` with `signal` as the stop signal of every call it makes (runChunks, UDFs). */
export function withStopSignal<T>(signal: AbortSignal, fn: () => T): T {
  return current.run(signal, fn)
}

/**
 * The stop signal of the computation running now, if any. Read it where a call is set up (in the caller's async
 * context), not in a shared queue's callback, which runs in whichever context released the queue.
 */
export function stopSignal(): AbortSignal | undefined {
  return current.getStore()
}

/** Throws StoppedError once `signal` has fired. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new StoppedError()
}

/** `wait`, or a StoppedError as soon as `signal` fires: a stopped caller leaves a queue at once. */
export function stoppable<T>(signal: AbortSignal | undefined, wait: Promise<T>): Promise<T> {
  if (!signal) return wait
  if (signal.aborted) return Promise.reject(new StoppedError())
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(new StoppedError())
    signal.addEventListener('abort', stop, { once: true })
    wait.then(
      (v) => (signal.removeEventListener('abort', stop), resolve(v)),
      (e) => (signal.removeEventListener('abort', stop), reject(e)),
    )
  })
}
