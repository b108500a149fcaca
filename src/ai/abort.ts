import { StoppedError } from '../compute/index.ts'

// When one provider request ends early: at its own timeout (timeoutMs, headers and body together), or when the
// computation it belongs to is stopped (a background job cancelled, closed or its table dropped: src/compute/stop.ts).
// The stop cuts the request in flight, so a cancel returns at once instead of when the slowest model answers.

/** What a provider call cut off by a stop fails with: its row is not done, and a resumed job asks again. */
export const stoppedInFlight = (): StoppedError =>
  new StoppedError('not computed: the computation was stopped (cancelled) while this provider request was in flight; the request was aborted')

export interface RequestAbort {
  /** Passed to fetch(): aborts the request, its body included. */
  readonly signal: AbortSignal
  /** Ends the watch (timer and stop listener) once the answer has been read. */
  release(): void
}

/**
 * The abort signal of one request. Not AbortSignal.any([stop, AbortSignal.timeout(ms)]): that makes each request a
 * dependent of the job's stop signal, which lives as long as the job (thousands of requests), and runtimes have kept
 * such dependents until the parent itself went (Deno #24842, Node #54614). Here the request removes its listener when
 * it is done. The timeout aborts with a TimeoutError, as AbortSignal.timeout does, so reading.ts's isTimeout() still
 * tells a timeout (retried) from a stop.
 */
export function requestAbort(timeoutMs: number, stop: AbortSignal | undefined): RequestAbort {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(new DOMException(`no response within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs)
  // Like AbortSignal.timeout, the timer alone keeps no process alive (the request's own socket does, while it lasts).
  ;(timer as { unref?: () => void }).unref?.()
  const onStop = () => controller.abort(stoppedInFlight())
  if (stop?.aborted) onStop()
  else stop?.addEventListener('abort', onStop, { once: true })
  return {
    signal: controller.signal,
    release: () => {
      clearTimeout(timer)
      stop?.removeEventListener('abort', onStop)
    },
  }
}
