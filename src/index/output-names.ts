// A search answers its table's columns and a few of its own (score, textRank, vectorRank). A table may have a column
// of the same name: it keeps its name and value, and the search's own output takes the first free name of
// `<name>_1`, `<name>_2`, … (a table without such a column answers the usual names). Refusing the search instead
// would leave a table with a `score` column unsearchable until renamed.

/** The name each wanted output takes beside the `taken` ones (the table's columns), in order. */
export function freeOutputNames<N extends string>(taken: Iterable<string>, wanted: readonly N[]): Record<N, string> {
  const used = new Set(taken)
  const names = {} as Record<N, string>
  for (const name of wanted) {
    let free: string = name
    for (let i = 1; used.has(free); i++) free = `${name}_${i}`
    used.add(free)
    names[name] = free
  }
  return names
}
