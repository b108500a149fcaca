// A new table's columns and types come from the first records (sampleSize, default 1,000). A later record that does
// not fit them (a 1.5 in a column of integers, a key no sampled record had) fails as a bad row; its error then says
// that the type was inferred, from how many records, and how to give it instead, since the user never declared it.

/** For a value the column's inferred type refuses, past the sampled records. */
export function inferredTypeHint(column: string, type: string, sampled: number): string {
  return `; the type ${type} of '${column}' was inferred from the first ${sampled} records: give the type (--type ${column}:TYPE, or schema: { ${column}: 'TYPE' }), or infer from more records (--sample-size N, or sampleSize)`
}

/** For a key that no sampled record had (JSON), so the table the import created has no such column. */
export function unsampledColumnHint(column: string, sampled: number): string {
  return `; the columns were taken from the first ${sampled} records, which have no '${column}': infer from more records (--sample-size N, or sampleSize), or create the table with that column first`
}
