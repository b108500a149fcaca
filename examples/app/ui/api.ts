// Calls to the routes setup.ts declares (POST /api/v1/app/...), with the token when the server wants one.

let token = localStorage.getItem('app-token') ?? ''

export function setToken(t: string): void {
  token = t
  localStorage.setItem('app-token', t)
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message)
  }
}

export async function call<T>(route: string, body: unknown): Promise<T> {
  const res = await fetch(`/api/v1/app${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  const data = await res.json().catch(() => ({}))
  if (!res.ok) throw new ApiError((data as { error?: { message?: string } }).error?.message ?? `HTTP ${res.status}`, res.status)
  return data as T
}

export function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader()
    r.onload = () => resolve(String(r.result))
    r.onerror = () => reject(r.error)
    r.readAsDataURL(file)
  })
}
