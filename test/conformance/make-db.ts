import type { Tessera } from '../../src/index.ts'

/** A fresh, empty database on the store under test (each call independent). */
export type MakeDb = () => Promise<Tessera>
