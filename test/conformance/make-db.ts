// Generated from SRC: the same scenarios, run on whichever store the caller passes in. Keep in step with it.

/** A fresh, empty database on the store under test (each call independent). */
export type MakeDb = () => Promise<Tessera>
