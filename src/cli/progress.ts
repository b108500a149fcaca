// A one-line progress display on stderr: redrawn in place on a terminal, a line every few seconds otherwise
// (so logs of cron jobs stay readable).

export function progressBar(label: string): { update(text: string, fraction?: number): void; done(text: string): void } {
  const tty = process.stderr.isTTY
  let last = 0
  return {
    update(text, fraction) {
      const now = Date.now()
      if (!tty && now - last < 5000) return
      last = now
      const bar = fraction === undefined ? '' : `[${'#'.repeat(Math.round(fraction * 30)).padEnd(30, '.')}] ${(fraction * 100).toFixed(0).padStart(3)}% `
      process.stderr.write(tty ? `\r${label} ${bar}${text}\x1b[K` : `${label} ${bar}${text}\n`)
    },
    done(text) {
      process.stderr.write(tty ? `\r${label} ${text}\x1b[K\n` : `${label} ${text}\n`)
    },
  }
}

/**
 * Progress of a long step whose size is unknown (a database dump, a setup file): the step's name and the seconds
 * spent, redrawn each second on a terminal (every 5 s in logs). `step` names the next step; `stop` ends the line.
 */
export function ticker(label: string): { step(text: string): void; stop(text: string): void } {
  const bar = progressBar(label)
  const started = Date.now()
  let current = ''
  const draw = () => bar.update(`${current} ${((Date.now() - started) / 1000).toFixed(0)} s`)
  const timer = setInterval(draw, 1000)
  timer.unref?.()
  let stopped = false
  return {
    step(text) {
      current = text
      draw()
    },
    stop(text) {
      if (stopped) return
      stopped = true
      clearInterval(timer)
      bar.done(`${text} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
    },
  }
}
