import type { MiddlewareHandler } from 'hono'

// Prometheus metrics without a client library: a request counter and a latency histogram per route pattern, and a
// few process gauges, in the text exposition format.

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

interface Series { count: number; sum: number; buckets: number[] }

export class Metrics {
  readonly #requests = new Map<string, number>()
  readonly #latency = new Map<string, Series>()
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
        const route = c.req.routePath || 'unmatched'
        const seconds = (performance.now() - start) / 1000
        const key = `method="${c.req.method}",route="${route.replaceAll('"', '')}",status="${c.res.status}"`
        this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1)
        const lk = `method="${c.req.method}",route="${route.replaceAll('"', '')}"`
        let s = this.#latency.get(lk)
        if (!s) this.#latency.set(lk, (s = { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) }))
        s.count++
        s.sum += seconds
        BUCKETS.forEach((b, i) => { if (seconds <= b) s!.buckets[i]!++ })
      }
    }
  }

  render(): string {
    const lines: string[] = []
    lines.push('# HELP tessera_http_requests_total HTTP requests by route pattern and status.', '# TYPE tessera_http_requests_total counter')
    for (const [k, v] of this.#requests) lines.push(`tessera_http_requests_total{${k}} ${v}`)
    lines.push('# HELP tessera_http_request_duration_seconds Request latency by route pattern.', '# TYPE tessera_http_request_duration_seconds histogram')
    for (const [k, s] of this.#latency) {
      BUCKETS.forEach((b, i) => lines.push(`tessera_http_request_duration_seconds_bucket{${k},le="${b}"} ${s.buckets[i]}`))
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
