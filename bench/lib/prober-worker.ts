// The serving bench's prober, in its own thread: the bench's main thread builds and stringifies 50,000-row request
// bodies (tens of ms each), and a prober sharing that event loop counted those stalls as server latency. A liveness
// probe (Docker, kubelet) is another process; a Worker has its own event loop, which is what matters here.
const port = globalThis as unknown as { onmessage: (e: MessageEvent) => void; postMessage(data: unknown): void }

interface Start { base: string; pointTable: string; maxId: number; searchTable?: string; everyMs: number }

const WORDS = 'lava flows ash clouds tides moon magma rock river delta glacier ice wind dune forest canopy reef coral storm rain'.split(' ')
let seed = 7
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
const sentence = () => Array.from({ length: 8 }, () => WORDS[Math.floor(rand() * WORDS.length)]).join(' ')

let running = false
port.onmessage = async (e: MessageEvent<{ start?: Start; stop?: true }>) => {
  if (e.data.stop) return void (running = false)
  const s = e.data.start!
  running = true
  const out: Record<'health' | 'point' | 'search', number[]> = { health: [], point: [], search: [] }
  const json = { 'content-type': 'application/json' }
  // Latency is counted from when each probe was due, so a stalled server counts even while the probe waits.
  const loop = async (kind: keyof typeof out, send: () => Promise<Response>) => {
    const start = performance.now()
    for (let k = 1; running; k++) {
      const due = start + k * s.everyMs
      const wait = due - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      const r = await send()
      await r.arrayBuffer()
      if (!r.ok) throw new Error(`${kind} probe answered ${r.status}`)
      out[kind].push(performance.now() - due)
      while (start + (k + 1) * s.everyMs < performance.now()) k++
    }
  }
  // A failed probe (an error answer, a dropped connection) ends the run with the reason: thrown here, it would end
  // this worker without an answer and leave the bench waiting forever.
  const failed = await Promise.all([
    loop('health', () => fetch(`${s.base}/health`)),
    loop('point', () => fetch(`${s.base}/api/v1/query`, { method: 'POST', headers: json, body: JSON.stringify({ table: s.pointTable, where: { fn: 'eq', args: [{ col: 'id' }, { lit: Math.floor(rand() * s.maxId) }] } }) })),
    ...(s.searchTable ? [loop('search', () => fetch(`${s.base}/api/v1/tables/${s.searchTable}/-/search`, { method: 'POST', headers: json, body: JSON.stringify({ column: 'text', text: sentence(), k: 10 }) }))] : []),
  ]).then(() => undefined, (e: unknown) => String((e as Error)?.message ?? e))
  port.postMessage(failed ? { failed } : out)
}
