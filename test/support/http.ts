// Calls to an app in-process (Hono's app.request, no socket): a JSON body in, the status and parsed JSON answer out.

export interface RequestHandler {
  request(path: string, init: RequestInit): Response | Promise<Response>
}

export function jsonCaller(app: RequestHandler) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await app.request(path, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })
    return { status: res.status, body: (await res.json()) as any }
  }
}
