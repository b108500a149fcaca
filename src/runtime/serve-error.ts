// What every runtime's server answers when its fetch handler fails outright (the app answers its own errors; this is
// the net under it): the API's JSON error for a bug, never the runtime's own page, which can show source and paths.

const BODY = JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error; see the server log' } })

export function internalError(e: unknown): Response {
  console.error('internal error in the HTTP server', e)
  return new Response(BODY, { status: 500, headers: { 'content-type': 'application/json; charset=utf-8' } })
}
