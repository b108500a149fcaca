import { isTransient, TransientError } from '../compute/index.ts'

// Reading a provider's answer once its headers have come. The request's timeout (timeoutMs) covers the body too, and
// a body can fail in ways a status code does not show: it stalls, ends early, is empty, or is not JSON. Each failure
// here says which endpoint (`where`, credential-free: see endpoint.ts) and what was wrong, and the ones a new attempt
// may fix (a timeout, a reset connection) are TransientError, retried like a failure before the headers.

const messageOf = (e: unknown): string => String((e as Error)?.message ?? e)

/** The request's own timeout firing (AbortSignal.timeout), as opposed to an abort for another reason (shutdown). */
export const isTimeout = (e: unknown): boolean => (e as Error)?.name === 'TimeoutError'

/**
 * A failure while reading `what` (the response body, the stream) as the error to report. Errors that already name
 * the endpoint (thrown by the stream parsers and assemblers, which get `where`) pass unchanged.
 */
export function readFailure(e: unknown, where: string, timeoutMs: number, what: string): Error {
  if (e instanceof Error && e.message.startsWith(where)) return e
  if (isTimeout(e)) return new TransientError(`${where}: timed out after ${timeoutMs} ms reading ${what} (timeoutMs)`, { cause: e })
  const message = `${where}: reading ${what} failed: ${messageOf(e)}`
  return isTransient(e) ? new TransientError(message, { cause: e }) : new Error(message, { cause: e })
}

/** The body as a JSON object or list; an empty, non-JSON or scalar body is an error that says what came. */
export async function readJson(res: Response, where: string, timeoutMs: number): Promise<object> {
  let text: string
  try {
    text = await res.text()
  } catch (e) {
    throw readFailure(e, where, timeoutMs, 'the response body')
  }
  const type = res.headers.get('content-type') ?? 'no content-type'
  if (text.trim() === '') throw new Error(`${where}: HTTP ${res.status} with an empty body (${type}), not a JSON answer`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw new Error(`${where}: the response is not JSON (${type}, ${messageOf(e)}): ${JSON.stringify(text.slice(0, 120))}`)
  }
  if (!value || typeof value !== 'object') throw new Error(`${where}: the response is ${JSON.stringify(value).slice(0, 80)}, not a JSON object`)
  return value
}
