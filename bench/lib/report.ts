import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import type { Measurement } from './harness.ts'
import { meetsTarget, ratio } from './harness.ts'

export function machine(): { nproc: number; cpu: string; date: string; bun: string; load: string } {
  let cpu = 'unknown'
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu
  } catch { /* not Linux */ }
  return { nproc: availableParallelism(), cpu, date: new Date().toISOString(), bun: typeof Bun !== 'undefined' ? Bun.version : process.version, load: loadText() }
}

/**
 * The 1, 5 and 15-minute load averages, as `uptime` prints them. Every ratio here is taken in one run, but a loaded
 * shared machine still moves them (thread wake-ups cost more), so each run says what the machine was doing.
 */
export function loadText(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ')
}

export function fmtSize(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n)
}

export function fmtValue(x: number, unit: string): string {
  if (!Number.isFinite(x)) return String(x)
  if (unit === 'rows/s') return x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)
  if (unit === 'us/op') return x >= 10_000 ? `${(x / 1000).toFixed(1)}ms` : `${x.toFixed(0)}us`
  if (unit === 'ms') return x >= 10_000 ? `${(x / 1000).toFixed(2)}s` : `${x.toFixed(1)}ms`
  return x.toFixed(x >= 100 ? 0 : 1)
}

function targetText(m: Measurement): string {
  const ok = meetsTarget(m)
  if (ok === undefined) return ''
  const t = m.target!.atLeast !== undefined ? `>=${m.target!.atLeast}` : `<=${m.target!.atMost}`
  return `${t} ${ok ? 'ok' : 'MISSED'}`
}

export function line(m: Measurement): string {
  const unit = m.unit === 'us/op' || m.unit === 'ms' ? '' : ` ${m.unit}`
  return [
    m.case.padEnd(9), fmtSize(m.size).padStart(5), ' ', m.metric.padEnd(44),
    `${fmtValue(m.tessera, m.unit)}${unit}`.padStart(16), `${fmtValue(m.baseline, m.unit)}${unit}`.padStart(16),
    `x${ratio(m).toFixed(2)}`.padStart(8), ' ', targetText(m).padEnd(11), ` vs ${m.against}`, m.note ? ` (${m.note})` : '',
  ].join('')
}

export function header(): string {
  return ['case'.padEnd(9), 'rows'.padStart(5), ' ', 'metric'.padEnd(44), 'tessera'.padStart(16), 'baseline'.padStart(16), 'ratio'.padStart(8), ' ', 'target'.padEnd(11)].join('')
}

/** Per-row cost growth from the smallest to the largest size: 1.0 is linear, above 1 grows faster than the rows. */
export function scaling(results: readonly Measurement[]): string[] {
  const out: string[] = []
  const groups = new Map<string, Measurement[]>()
  for (const m of results) {
    const k = `${m.case}\u0000${m.metric.replace(/\(\d+ rows\)/, '')}`
    groups.set(k, [...(groups.get(k) ?? []), m])
  }
  for (const ms of groups.values()) {
    if (ms.length < 2 || ms[0]!.unit === 'MB') continue
    const a = ms.reduce((x, y) => (y.size < x.size ? y : x))
    const b = ms.reduce((x, y) => (y.size > x.size ? y : x))
    // Cost per row: a throughput's inverse; a time per op over the table's rows (so a constant-time lookup shows ~0.1).
    const cost = (m: Measurement) => (m.higherIsBetter ? 1 / m.tessera : m.tessera / m.size)
    const g = cost(b) / cost(a)
    out.push(`${a.case.padEnd(9)} ${b.metric.replace(/\(\d+ rows\)/, '').padEnd(44)} ${fmtSize(a.size)} -> ${fmtSize(b.size)}: per-row cost x${g.toFixed(2)}`)
  }
  return out
}
