import { invalid } from '../errors.ts'
import { canonicalDestination, destinationStore } from '../media/index.ts'
import type { MediaBackend } from '../media/index.ts'
import type { Queryable } from '../store/index.ts'
import type { ColumnType } from '../types/index.ts'
import { formatType, isMedia } from '../types/index.ts'

// Computed media columns with a `destination`: checked when the column is added, opened again when a database opens
// (their refs must resolve after a restart), and swept by media garbage collection like the database's own store.

/** The canonical form of a destination; its store is opened now, so bad settings fail before the column exists. */
export function checkDestination(spec: unknown): string {
  if (typeof spec !== 'string' || spec.trim() === '' || spec.length > 1024) throw invalid('INVALID_ARGUMENT', `destination must be 's3://bucket/prefix' or a folder path, got ${JSON.stringify(spec)?.slice(0, 80)}`)
  const canonical = canonicalDestination(spec)
  destinationStore(canonical)
  return canonical
}

/**
 * Checks the column computes media and remembers the destination in tessera.meta (in the column's transaction): its
 * files must still be collected after the table is dropped, when no version names the destination any more.
 */
export async function recordDestination(tx: Queryable, destination: string, type: ColumnType, column: string): Promise<string> {
  if (!isMedia(type)) throw invalid('INVALID_ARGUMENT', `destination applies to media columns; '${column}' computes ${formatType(type)}`, { column })
  await tx.query(
    `insert into tessera.meta(key, value) values ('media_destinations', jsonb_build_array($1::text)) on conflict (key) do update set value = (select jsonb_agg(distinct d) from jsonb_array_elements(tessera.meta.value || excluded.value) d)`,
    [destination])
  return destination
}

/** Every destination this database has used (recorded ones, and any a table version names). */
export async function listDestinations(db: Queryable): Promise<string[]> {
  const r = await db.query<{ d: string }>(
    `select distinct c->>'destination' as d from tessera.versions v, jsonb_array_elements(v.md->'columns') c where c ? 'destination'
     union select jsonb_array_elements_text(value) from tessera.meta where key = 'media_destinations' order by 1`)
  return r.rows.map((x) => x.d)
}

/** Opens the destinations the catalog names; one that cannot open (missing credentials) is reported, not fatal. */
export async function openDestinations(db: Queryable): Promise<{ stores: MediaBackend[]; failed: { destination: string; error: string }[] }> {
  const stores: MediaBackend[] = []
  const failed: { destination: string; error: string }[] = []
  for (const d of await listDestinations(db)) {
    try {
      stores.push(destinationStore(d))
    } catch (e) {
      failed.push({ destination: d, error: (e as Error).message })
    }
  }
  return { stores, failed }
}
