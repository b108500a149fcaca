import { setOutboundFetch } from '../../ai/index.ts'

// How `tessera serve` ends within its drain timeout (README "Serving while writing": in-flight requests get
// --drain-timeout, then the store closes and the process exits 0). Two things used to hold it long after: a background
// job waiting on a provider (closing the store waits for the job's batch, so for the slowest model answer), and the
// process itself, which kept running until its last open handle (that same request) ended.

/**
 * What an aborted provider request fails with. The job it belonged to was stopped, not broken: a job whose cells
 * abort on error (onError 'abort') records it as its failure, and `tessera serve` resumes such a job at its next start
 * as it resumes an interrupted one.
 */
export const SHUTDOWN_ABORT = 'tessera serve was stopping: the provider request was cut off, and its job continues at the next start'

/**
 * Makes every provider request of this process abortable at shutdown. Provider calls reach the network only through
 * src/ai's outbound function; `tessera serve` installs no other, so this is its default (a plain fetch) with the
 * shutdown signal joined to the request's own timeout.
 *
 * A request cut off (or one made after the cut) answers 499, "client closed request", instead of failing: the provider
 * client retries a failed request with backoff, twice over for a batch (about 8 s in all), which would hold close()
 * as long as the answer did; a 4xx is not retried, so the job's batch ends at once.
 */
export function abortableProviderRequests(): { abort(): void } {
  const shutdown = new AbortController()
  const cutOff = () => Response.json({ error: { message: SHUTDOWN_ABORT } }, { status: 499, statusText: 'Client Closed Request' })
  setOutboundFetch(async (url, init) => {
    if (shutdown.signal.aborted) return cutOff()
    try {
      // redirect: 'manual' as src/ai/outbound.ts asks, restated so this fetch cannot carry a key elsewhere if it is
      // ever installed around another caller.
      return await fetch(url, { ...init, redirect: 'manual', signal: init.signal ? AbortSignal.any([init.signal, shutdown.signal]) : shutdown.signal })
    } catch (e) {
      if (shutdown.signal.aborted) return cutOff()
      throw e
    }
  })
  return { abort: () => shutdown.abort(new Error(SHUTDOWN_ABORT)) }
}

/** Whether a job that failed did so only because a previous `tessera serve` cut its provider request off. */
export const failedByShutdown = (job: { readonly status: string; readonly error?: string | null }): boolean =>
  job.status === 'failed' && typeof job.error === 'string' && job.error.includes(SHUTDOWN_ABORT)

/**
 * Ends the process now with `code`, once the lines written so far have reached stdout and stderr (a pipe to a log
 * collector may take them asynchronously): whatever still holds the event loop (a provider request, a write cut off
 * past the drain timeout) must not keep a stopping server alive.
 */
export async function exitNow(code: number): Promise<never> {
  const flushed = (s: NodeJS.WriteStream) => new Promise<void>((resolve) => s.write('', () => resolve()))
  await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), new Promise((r) => setTimeout(r, 500))])
  process.exit(code)
}
