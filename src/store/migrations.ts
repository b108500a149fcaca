import { createHash } from 'node:crypto'
import { TesseraError } from '../errors.ts'
import type { Queryable } from './types.ts'

// The catalog schema. Each entry runs once, in order, inside one transaction; the applied count lives in
// tessera.meta so an older binary refuses a newer data dir instead of misreading it.

const MIGRATIONS: readonly string[] = [
  `
  create schema if not exists tessera;
  create schema if not exists tessera_data;
  create table tessera.dirs (
    id bigserial primary key,
    path text not null unique,
    created_at timestamptz not null default now()
  );
  create table tessera.tables (
    id bigserial primary key,
    path text not null unique,
    kind text not null,
    version integer not null default 0,
    md jsonb not null,
    created_at timestamptz not null default now()
  );
  create table tessera.versions (
    table_id bigint not null references tessera.tables(id) on delete cascade,
    version integer not null,
    created_at timestamptz not null default now(),
    kind text not null,
    inserted bigint not null default 0,
    updated bigint not null default 0,
    deleted bigint not null default 0,
    errors bigint not null default 0,
    md jsonb not null,
    primary key (table_id, version)
  );
  `,
  // API tokens: only a SHA-256 of each token is stored; scopes are dir prefixes with read or write access.
  `
  create table tessera.tokens (
    id bigserial primary key,
    name text not null unique,
    hash text not null unique,
    admin boolean not null default false,
    scopes jsonb not null default '[]',
    created_at timestamptz not null default now(),
    revoked_at timestamptz
  );
  `,
  // Background jobs (src/catalog/jobs.ts): progress is written with each batch, so a resumed job skips done rows.
  `
  create table tessera.jobs (
    id bigserial primary key,
    table_id bigint not null references tessera.tables(id) on delete cascade,
    kind text not null,
    column_name text not null,
    spec jsonb not null,
    status text not null,
    rows_done bigint not null default 0,
    rows_total bigint not null default 0,
    cursor bigint not null default 0,
    error text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
  );
  `,
  // Every committed change of a table's catalog row is announced on 'tessera_catalog', so processes sharing a
  // server store re-read the tables they cache (PGlite has one process; nobody listens there).
  `
  create function tessera.notify_table_change() returns trigger language plpgsql as $$
  begin
    if tg_op = 'DELETE' then
      perform pg_notify('tessera_catalog', json_build_object('id', old.id, 'version', null, 'path', null)::text);
    else
      perform pg_notify('tessera_catalog', json_build_object('id', new.id, 'version', new.version, 'path', new.path)::text);
    end if;
    return null;
  end $$;
  create trigger tables_changed after update or delete on tessera.tables
    for each row execute function tessera.notify_table_change();
  `,
  // Data lifecycle (src/catalog/retention.ts): a retention policy per table (the database default lives in
  // tessera.meta 'retention'), and what compaction removed: row versions only versions >= oldest, or a version in
  // kept (pinned by a snapshot), can still see. Version metadata in tessera.versions is never removed.
  `
  create table tessera.retention (
    table_id bigint primary key references tessera.tables(id) on delete cascade,
    keep_versions integer,
    keep_seconds bigint
  );
  create table tessera.compacted (
    table_id bigint primary key references tessera.tables(id) on delete cascade,
    oldest integer not null,
    kept integer[] not null default '{}',
    compacted_at timestamptz not null default now()
  );
  `,
  // Jobs get an unguessable key (122 random bits): the HTTP API names jobs by it, so ids cannot be enumerated.
  `
  alter table tessera.jobs add column key text not null default replace(gen_random_uuid()::text, '-', '');
  create unique index jobs_key on tessera.jobs(key);
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length
/** Names the migrations' exact text (a cached test template made by another branch's migrations is not reused). */
export const SCHEMA_DIGEST = createHash('sha256').update(MIGRATIONS.join('\u0000')).digest('hex').slice(0, 12)

export async function migrate(db: Queryable & { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> }): Promise<void> {
  await db.exec(`create schema if not exists tessera; create table if not exists tessera.meta (key text primary key, value jsonb not null)`)
  await db.transaction(async (tx) => {
    const r = await tx.query<{ value: number }>(`select value from tessera.meta where key = 'schema_version' for update`)
    const applied = r.rows[0]?.value ?? 0
    if (applied > MIGRATIONS.length) {
      throw new TesseraError('MIGRATION_FAILED', `data dir catalog is version ${applied}, newer than this build understands (${MIGRATIONS.length}); upgrade tessera`, { applied, supported: MIGRATIONS.length })
    }
    for (let i = applied; i < MIGRATIONS.length; i++) {
      try {
        await tx.exec(MIGRATIONS[i]!)
      } catch (e) {
        throw new TesseraError('MIGRATION_FAILED', `migrating the data dir catalog from version ${i} to ${i + 1} failed: ${(e as Error).message}; nothing was changed`, { from: i, to: i + 1 }, { cause: e })
      }
    }
    await tx.query(
      `insert into tessera.meta(key, value) values ('schema_version', $1::jsonb) on conflict (key) do update set value = excluded.value`,
      [JSON.stringify(MIGRATIONS.length)],
    )
  })
}
