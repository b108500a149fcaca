// A deploy-time setup file: `tessera apply examples/setup.ts` (add --plan to see what would change).
// It imports nothing, so the single binary can run it anywhere; `db` is a SetupDb (see src/setup/setup-db.ts).
// With TESSERA_ENV=prod the paths below become prod_app/..., so environments can share one server.

/** @param {import('../src/setup/setup-db.ts').SetupDb} db */
export default async function setup(db) {
  await db.createDir('app')
  const docs = await db.createTable('app/docs', { id: 'int', title: 'string', body: 'string', meta: 'json?' }, { primaryKey: 'id' })
  await docs.addComputedColumn('title_upper', docs.c.title.upper())
  await docs.addComputedColumn('words', docs.c.body.len())
  await db.createView('app/chunks', docs, { iterator: { name: 'string_splitter', input: 'body', args: { separators: 'sentence' } } })
}
