import type { TableMd } from '../../catalog/index.ts'
import { vectorIndexesOf } from './manager.ts'

/**
 * `tessera check` on the embedded store: each native index of the table holds every vector of the version it
 * covers (waiting for a running build first). A problem starts a rebuild; searches stay complete meanwhile.
 */
export async function checkVectorIndexes(db: object, tableId: number, md: TableMd): Promise<string[]> {
  const manager = vectorIndexesOf(db)
  if (!manager) return []
  const out: string[] = []
  for (const idx of md.indexes ?? []) out.push(...(await manager.entry(tableId, idx).problems()))
  return out
}
