// The one place src/ai/ reaches the network. Provider calls go through sendOutbound(), so the server's outbound
// fetcher (address checks, proxies, limits) can be put behind every LLM call in one line: setOutboundFetch(fetcher).

export type OutboundFetch = (url: string, init: RequestInit) => Promise<Response>

let outbound: OutboundFetch = (url, init) => fetch(url, init)

/** Replaces how provider requests are sent (the server's outbound fetcher; tests never need this). */
export function setOutboundFetch(fn: OutboundFetch): void {
  outbound = fn
}

/**
 * Sends a provider request. Redirects are never followed, whatever the caller asked: a followed redirect carries the
 * request's headers, the API key among them, to another host (ProviderClient.request reports a 3xx as an error).
 */
export function sendOutbound(url: string, init: RequestInit): Promise<Response> {
  return outbound(url, { ...init, redirect: 'manual' })
}
