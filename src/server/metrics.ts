import type { MiddlewareHandler } from 'hono'

// Prometheus metrics without a client library: a request counter and a latency histogram per route pattern, and a
// few process gauges, in the text exposition format.

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** One route pattern and method: requests by status and a latency histogram (per-bucket counts, summed at render). */
interface Series { readonly labels: string; readonly statuses: Map<number, number>; count: number; sum: number; readonly buckets: number[] }

export class Metrics {
  // Keyed by method and route pattern, so a request costs one short key and a few increments (the labels text is
  // made once per series, not per request: this runs on every request of the hot path).
  readonly #series = new Map<string, Series>()
  #inFlight = 0
  readonly #started = Date.now()

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      this.#inFlight++
      const start = performance.now()
      try {
        await next()
      } finally {
        this.#inFlight--
        this.#record(c.req.method, c.req.routePath || 'unmatched', c.res.status, (performance.now() - start) / 1000)
      }
    }
  }

  #record(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${route}`
    let s = this.#series.get(key)
    if (!s) this.#series.set(key, (s = { labels: `method="${method}",route="${route.replaceAll('"', '')}"`, statuses: new Map(), count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }))
    s.statuses.set(status, (s.statuses.get(status) ?? 0) + 1)
    s.count++
    s.sum += seconds
    let i = 0
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++
    if (i < BUCKETS.length) s.buckets[i]!++
  }

  render(): string {
    const lines: string[] = []
    lines.push('# HELP tessera_http_requests_total HTTP requests by route pattern and status.', '# TYPE tessera_http_requests_total counter')
    for (const s of this.#series.values()) for (const [status, n] of s.statuses) lines.push(`tessera_http_requests_total{${s.labels},status="${status}"} ${n}`)
    lines.push('# HELP tessera_http_request_duration_seconds Request latency by route pattern.', '# TYPE tessera_http_request_duration_seconds histogram')
    for (const s of this.#series.values()) {
      const k = s.labels
      let cumulative = 0
      BUCKETS.forEach((b, i) => lines.push(`tessera_http_request_duration_seconds_bucket{${k},le="${b}"} ${(cumulative += s.buckets[i]!)}`))
      lines.push(`tessera_http_request_duration_seconds_bucket{${k},le="+Inf"} ${s.count}`)
      lines.push(`tessera_http_request_duration_seconds_sum{${k}} ${s.sum}`)
      lines.push(`tessera_http_request_duration_seconds_count{${k}} ${s.count}`)
    }
    const mem = process.memoryUsage()
    lines.push('# TYPE tessera_http_requests_in_flight gauge', `tessera_http_requests_in_flight ${this.#inFlight}`)
    lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`)
    lines.push('# TYPE process_heap_used_bytes gauge', `process_heap_used_bytes ${mem.heapUsed}`)
    lines.push('# TYPE process_uptime_seconds gauge', `process_uptime_seconds ${(Date.now() - this.#started) / 1000}`)
    return lines.join('\n') + '\n'
  }
}
