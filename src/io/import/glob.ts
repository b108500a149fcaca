// A small glob → RegExp for folder imports ('**/*.jpg', '*.{png,jpg}', 'img_??.png'), matched against paths
// relative to the folder with '/' separators. Node 20 has no fs.glob, and runtime-specific globbers are off limits.

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
      inGroup = true
      re += '(?:'
    } else if (c === '}' && inGroup) {
      inGroup = false
      re += ')'
    } else if (c === ',' && inGroup) re += '|'
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 'i')
}
