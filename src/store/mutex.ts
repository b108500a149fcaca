// A FIFO async mutex. PGlite is one connection, so Tessera queues its own multi-step operations (compute outside,
// write inside) per table here instead of relying on statement order.

export class Mutex {
  #tail: Promise<void> = Promise.resolve()
  #pending = 0

  get pending(): number {
    return this.#pending
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const prev = this.#tail
    let release!: () => void
    this.#tail = new Promise<void>((r) => (release = r))
    this.#pending++
    try {
      await prev
      return await fn()
    } finally {
      this.#pending--
      release()
    }
  }
}

/** One mutex per key (table id), created on demand and dropped when idle. */
export class KeyedMutex<K> {
  readonly #locks = new Map<K, Mutex>()

  /** Whether work holds or waits for this key's mutex now (a table being written: its commit may be under way). */
  held(key: K): boolean {
    return this.#locks.has(key)
  }

  async run<T>(key: K, fn: () => Promise<T>): Promise<T> {
    let m = this.#locks.get(key)
    if (!m) this.#locks.set(key, (m = new Mutex()))
    try {
      return await m.run(fn)
    } finally {
      if (m.pending === 0) this.#locks.delete(key)
    }
  }
}
