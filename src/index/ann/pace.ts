/**
 * Sizes the next unit of store work (a page of vectors, a slice of blocks) to about `targetMs` of store time, at the
 * best rate seen so far. The best, not the last: a unit's time includes waiting for the store behind others'
 * statements (a page of an index build, a write step), which says nothing about how big the next one may be — sized
 * by the last, a slice that waited behind a 110 ms page shrank the next to one block, and a search took 17 s.
 */
export class Pace {
  #msPerUnit = Infinity

  constructor(
    public size: number,
    readonly targetMs: number,
    readonly limits: { readonly min: number; readonly max: number; readonly growth: number },
  ) {}

  /** Records that `units` took `ms` (waiting included) and sets the next size: grown at most `growth` times. */
  took(units: number, ms: number): void {
    this.#msPerUnit = Math.min(this.#msPerUnit, Math.max(ms, 0.5) / units)
    const { min, max, growth } = this.limits
    this.size = Math.max(min, Math.min(max, units * growth, Math.round(this.targetMs / this.#msPerUnit)))
  }
}
