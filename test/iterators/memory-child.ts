// Runs one iterator over a file in a fresh process and prints its peak RSS growth, so memory tests measure the
// iterator, not whatever the test process did before. Usage: bun memory-child.ts <iterator> <file> '<args json>'
import { getIterator } from '../../src/iterators/index.ts'

const [name, file, args] = process.argv.slice(2) as [string, string, string]
Bun.gc(true)
const base = process.memoryUsage().rss
let peak = base
let rows = 0
const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 5)
for await (const _ of getIterator(name).run(file, JSON.parse(args))) {
  rows++
  if (rows % 100 === 0) peak = Math.max(peak, process.memoryUsage().rss)
}
clearInterval(timer)
console.log(JSON.stringify({ rows, growthMb: (peak - base) / 2 ** 20 }))
