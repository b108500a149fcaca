import { errorOf } from '../errors.ts'
import { checkLiteralRefs, currentMediaAccess } from '../media/index.ts'
import { isFn, isLit, printExpr, someNode, typeOf } from '../query/index.ts'
import type { ExprNode, Scope } from '../query/index.ts'
import { isMedia, parseType } from '../types/index.ts'

// Expressions whose media values a scoped token writes into its table (a computed column's definition, an update's
// expression): the values are stored, and the table's media route then serves them, so a store ref they hold must be
// one the caller may read (src/media/read-gate.ts), or the column would be a window onto another tenant's object.
// Literals are looked up once per definition; a cast from text to a media type (astype(concat('media://', …),
// 'image')) could spell any ref per row in SQL, where no lookup is possible, so a scoped token may not write one.
// Admins and in-process use are unchanged.

/** Refuses (FORBIDDEN, naming `what`) a store ref a literal of `node` names that the caller may not read. One lookup. */
export async function checkDefinitionLiterals(node: ExprNode, what: string): Promise<void> {
  if (!currentMediaAccess()?.storeRefs) return
  const literals: [unknown, string][] = []
  const label = `${what} (${printExpr(node)})`
  someNode(node, (n) => (isLit(n) && typeof n.lit === 'string' && literals.push([n.lit, label]), false))
  await checkLiteralRefs(literals)
}

/** Refuses, under a scoped token, a cast of a value that is not media to a media type inside `node` (see above). */
export function refuseTextToMedia(node: ExprNode, scope: Scope, what: string): void {
  const access = currentMediaAccess()
  if (!access?.storeRefs) return
  someNode(node, (n) => {
    if (!isFn(n) || n.fn !== 'astype' || n.args.length !== 1 || !isMedia(parseType(String(n.opts?.type ?? 'string')))) return false
    if (isMedia(typeOf(n.args[0]!, scope))) return false
    throw errorOf('FORBIDDEN',
      `${what}: ${access.who} may not make a media value from text (${printExpr(n)}): it could name media no table it may read holds; store the media in a media column (upload the bytes, or reference media its tables hold) and read that column`,
      { expression: printExpr(n) })
  })
}
