import { invalid } from '../../errors.ts'
import type { TesseraError } from '../../errors.ts'

// A new table takes its column names from the input (a CSV header, JSON keys), and a name the catalog refuses
// ('First Name', '2nd', '__proto__') used to fail with the catalog's bare 'invalid column name': no file, no way
// out. Import has no option to rename columns, so the error names the file and the name, and says what to change.

/** The INVALID_NAME error for input column `name` that the catalog refused with `reason` (its own message). */
export function badColumnName(file: string, where: 'header' | 'input', name: string, reason: string, table: string): TesseraError {
  const suggestion = validName(name)
  const fix = where === 'header' ? 'rename it in the header' : 'rename the key in the input'
  return invalid(
    'INVALID_NAME',
    `${file}: the ${where} has column ${JSON.stringify(name)}, which cannot be a column name (${reason.replace(/^invalid column name "(?:[^"\\]|\\.)*": /, '')}); ` +
      `import has no option to rename columns: ${fix}${suggestion !== undefined ? ` (e.g. ${JSON.stringify(suggestion)})` : ''} and import again; nothing was imported ('${table}' was not created)`,
    { file, column: name },
  )
}

/** A name the catalog would take in place of `name` (letters, digits and _, not starting with a digit), if one is obvious. */
function validName(name: string): string | undefined {
  if (name === '__proto__') return 'proto'
  // Only ASCII names: replacing every non-ASCII letter by _ ('Ünï' → '_n_') suggests nothing useful.
  if (!/^[\x20-\x7e]+$/.test(name)) return undefined
  let s = name.trim().replace(/[^A-Za-z0-9_]+/g, '_')
  if (/^[0-9]/.test(s)) s = `_${s}`
  s = s.slice(0, 63)
  return s !== name && /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? s : undefined
}
