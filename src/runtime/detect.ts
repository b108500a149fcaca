export type RuntimeName = 'bun' | 'deno' | 'node'

export function detectRuntime(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown }
  if (g.Bun) return 'bun'
  if (g.Deno) return 'deno'
  return 'node'
}
