// The bench harness's vocabulary: a case measures Tessera and a baseline in the same run and reports both, so every
// figure is a ratio against something measured on the same machine, under the same load, a second earlier.

import type { BenchEnv } from './env.ts'

/** One line of the report: Tessera's figure, the baseline's, and how they compare. */
export interface Measurement {
  readonly case: string
  readonly size: number
  /** What was measured ('insert', 'point query', ...). */
  readonly metric: string
  readonly tessera: number
  readonly baseline: number
  /** 'ms' | 'us/op' | 'rows/s' | 'MB' ... */
  readonly unit: string
  /** What the baseline is ('raw PGlite unnest', 'plain insert', ...). */
  readonly against: string
  /** Higher is better (throughputs); otherwise lower is better (times, sizes). */
  readonly higherIsBetter?: boolean
  /** The target for tessera/baseline, if any: e.g. { atLeast: 0.8 } or { atMost: 1.5 }. */
  readonly target?: { readonly atLeast?: number; readonly atMost?: number }
  readonly note?: string
}

export interface BenchContext {
  readonly env: BenchEnv
  readonly size: number
  /** Repetitions for timed sections (each side runs this many times, interleaved). */
  readonly reps: number
  log(msg: string): void
}

export interface BenchCase {
  readonly name: string
  readonly description: string
  /** Sizes this case skips (e.g. too slow at 1M). */
  readonly maxSize?: number
  run(ctx: BenchContext): Promise<Measurement[]>
}

/** tessera/baseline, oriented so that > 1 always means "Tessera has more of the unit" (faster for rows/s, slower for ms). */
export function ratio(m: Measurement): number {
  return m.baseline === 0 ? NaN : m.tessera / m.baseline
}

export function meetsTarget(m: Measurement): boolean | undefined {
  if (!m.target) return undefined
  const r = ratio(m)
  if (m.target.atLeast !== undefined && !(r >= m.target.atLeast)) return false
  if (m.target.atMost !== undefined && !(r <= m.target.atMost)) return false
  return true
}

export const now = (): number => performance.now()

export async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  const t0 = now()
  await fn()
  return now() - t0
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

/**
 * Runs each side `reps` times, rotating which goes first each round, and returns each side's median time (ms): this
 * machine is shared, and rotating spreads background load over all sides instead of charging it to one.
 */
export async function alternate(reps: number, sides: readonly ((rep: number) => Promise<unknown>)[], setup?: (side: number, rep: number) => Promise<unknown>): Promise<number[]> {
  const times = sides.map(() => [] as number[])
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < sides.length; k++) {
      const side = (k + r) % sides.length
      if (setup) await setup(side, r)
      times[side]!.push(await timeIt(() => sides[side]!(r)))
    }
  }
  return times.map(median)
}

export async function interleave(reps: number, a: (rep: number) => Promise<unknown>, b: (rep: number) => Promise<unknown>): Promise<{ a: number; b: number }> {
  const [ta, tb] = await alternate(reps, [a, b])
  return { a: ta!, b: tb! }
}

/** Mean of the middle 80%: drops the bursts a shared machine adds to single operations, keeps steady costs like GC. */
export function trimmedMean(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const cut = Math.floor(s.length / 10)
  const mid = s.slice(cut, s.length - cut)
  return mid.reduce((a, b) => a + b, 0) / mid.length
}

/**
 * Per-operation latency (microseconds) of two small operations, alternated op by op (a, b, b, a, ...) so both sides
 * run under the same background load; `rounds * ops` operations a side, reported as a trimmed mean.
 */
export async function latency(rounds: number, ops: number, a: (i: number) => Promise<unknown>, b: (i: number) => Promise<unknown>): Promise<{ a: number; b: number }> {
  const [ta, tb] = await latencies(rounds, ops, [a, b])
  return { a: ta!, b: tb! }
}

/** latency() for any number of sides: op i runs every side, in an order that rotates with i. */
export async function latencies(rounds: number, ops: number, sides: readonly ((i: number) => Promise<unknown>)[]): Promise<number[]> {
  // Warm-up: plan caches, JIT, Postgres buffers.
  for (let i = 0; i < Math.min(ops, 20); i++) for (const side of sides) await side(i)
  const times = sides.map(() => [] as number[])
  const total = rounds * ops
  for (let i = 0; i < total; i++) {
    for (let k = 0; k < sides.length; k++) {
      const s = (i + k) % sides.length
      times[s]!.push(await timeIt(() => sides[s]!(i)))
    }
  }
  return times.map((t) => trimmedMean(t) * 1000)
}
