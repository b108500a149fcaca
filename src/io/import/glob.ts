// A small glob → RegExp for folder imports ('**/*.jpg', '*.{png,jpg}', 'img_??.png'), matched against paths
// relative to the folder with '/' separators. Node 20 has no fs.glob, and runtime-specific globbers are off limits.

import { invalid } from '../../errors.ts'

/** Refuses what the pattern language lacks (an unclosed or nested '{') by name, not as a broken regular expression. */
export function globToRegExp(glob: string): RegExp {
  let re = ''
  let inGroup = false
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++
        if (glob[i + 1] === '/') {
          i++
          re += '(?:.*/)?'
        } else re += '.*'
      } else re += '[^/]*'
    } else if (c === '?') re += '[^/]'
    else if (c === '{') {
      if (inGroup) throw invalid('INVALID_ARGUMENT', `glob '${glob}': '{' inside '{...}' is not supported (one level of alternatives, e.g. '*.{png,jpg}')`)
      inGroup = true
      re += '(?:'
    } else if (c === '}' && inGroup) {
      inGroup = false
      re += ')'
    } else if (c === ',' && inGroup) re += '|'
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&')
  }
  if (inGroup) throw invalid('INVALID_ARGUMENT', `glob '${glob}' has a '{' without its '}' (alternatives are written '*.{png,jpg}')`)
  return new RegExp(`^${re}$`, 'i')
}
