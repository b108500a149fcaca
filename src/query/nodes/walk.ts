import { fnNode } from './factories.ts'
import type { ExprNode, FnNode } from './types.ts'
import { isFn } from './types.ts'

// The one tree walker for expression nodes. Walks that used to be written by hand (inlining, qualifying, renaming,
// searching) say only what they do at a node.

/** True when `pred` holds for the node or any node below it (parents first; stops at the first hit). */
export function someNode(node: ExprNode, pred: (n: ExprNode) => boolean): boolean {
  if (pred(node)) return true
  return isFn(node) && node.args.some((a) => someNode(a, pred))
}

/**
 * Rebuilds a tree bottom-up: `fn` sees each node with its arguments already mapped. Nodes `fn` returns unchanged
 * stay the same objects, and a function node whose arguments did not change is kept as is, so identity (which the
 * plan cache relies on for literals) survives every walk that does not touch a node.
 */
export function mapNodes(node: ExprNode, fn: (n: ExprNode) => ExprNode): ExprNode {
  if (!isFn(node)) return fn(node)
  const args = node.args.map((a) => mapNodes(a, fn))
  const same = args.every((a, i) => a === node.args[i])
  return fn(same ? node : withArgs(node, args))
}

/** A function node with other arguments, keeping its name and options (frozen, as every node). */
export function withArgs(node: FnNode, args: readonly ExprNode[]): FnNode {
  return fnNode(node.fn, args, node.opts)
}
