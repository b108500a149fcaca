import { expect, test } from 'bun:test'
import { AGING_MS, READS_IN_FLIGHT, StoreScheduler } from '../../src/store/index.ts'
import type { StoreClass } from '../../src/store/index.ts'

// The embedded store's scheduler (src/store/scheduler.ts), on plain promises: who holds the store, and when.

/** A turn that holds the store until released, recording when it started. */
function turn(s: StoreScheduler, cls: StoreClass, log: string[], name: string) {
  let release!: () => void
  const held = new Promise<void>((r) => (release = r))
  const done = s.run(cls, async () => {
    log.push(`start ${name}`)
    await held
    log.push(`end ${name}`)
  })
  return { release, done }
}

const tick = () => new Promise((r) => setTimeout(r, 0))

test(`up to ${READS_IN_FLIGHT} reads are in flight at once; a transaction waits for them and then holds the store alone`, async () => {
  const s = new StoreScheduler()
  const log: string[] = []
  const reads = Array.from({ length: READS_IN_FLIGHT + 1 }, (_, i) => turn(s, 'read', log, `r${i}`))
  await tick()
  expect(s.readsInFlight).toBe(READS_IN_FLIGHT)
  expect(s.waiting.read).toBe(1)
  const write = turn(s, 'write', log, 'w')
  // while a write waits, reads are sent one at a time: the waiting read waits for the others to end
  reads[0]!.release()
  await tick()
  expect(log).not.toContain(`start r${READS_IN_FLIGHT}`)
  for (const r of reads.slice(1, READS_IN_FLIGHT)) r.release()
  await tick()
  // then it goes before the (young) write: reads first
  expect(log).toContain(`start r${READS_IN_FLIGHT}`)
  expect(log).not.toContain('start w')
  reads[READS_IN_FLIGHT]!.release()
  await Promise.all(reads.map((r) => r.done))
  await tick()
  expect(log.at(-1)).toBe('start w')
  // while the write holds the store, no read starts
  const late = turn(s, 'read', log, 'late')
  await tick()
  expect(log).not.toContain('start late')
  write.release()
  await write.done
  await tick()
  expect(log.at(-1)).toBe('start late')
  late.release()
  await late.done
})

test('a write that has waited past its aging limit goes next: no new read starts while the reads in flight drain', async () => {
  const s = new StoreScheduler()
  const log: string[] = []
  const first = turn(s, 'read', log, 'r0')
  await tick()
  const write = turn(s, 'write', log, 'w')
  await new Promise((r) => setTimeout(r, AGING_MS.write + 5))
  const after = turn(s, 'read', log, 'r1') // arrives after the write has aged: it must wait for the write
  await tick()
  expect(log).not.toContain('start r1')
  first.release()
  await first.done
  await tick()
  expect(log).toContain('start w')
  expect(log).not.toContain('start r1')
  write.release()
  await write.done
  await tick()
  expect(log).toContain('start r1')
  after.release()
  await after.done
})

test('a background job is never starved by a steady stream of reads and writes', async () => {
  const s = new StoreScheduler()
  let jobRan = false
  const job = s.run('background', async () => void (jobRan = true))
  const deadline = performance.now() + AGING_MS.background * 4
  while (!jobRan && performance.now() < deadline) {
    await Promise.all([s.run('read', () => tick()), s.run('read', () => tick()), s.run('write', () => tick())])
  }
  await job
  expect(jobRan).toBe(true)
})

test('whenIdle resolves once every queued and running turn has ended (close waits for calls made before it)', async () => {
  const s = new StoreScheduler()
  await s.whenIdle()
  const log: string[] = []
  const reads = Array.from({ length: READS_IN_FLIGHT + 2 }, (_, i) => turn(s, 'read', log, `r${i}`))
  const write = turn(s, 'write', log, 'w')
  let idle = false
  const whenIdle = s.whenIdle().then(() => (idle = true))
  // past the write's aging limit, it goes before the queued reads; idle still waits for all of them
  await new Promise((r) => setTimeout(r, AGING_MS.write + 5))
  for (const r of reads.slice(0, READS_IN_FLIGHT)) r.release()
  await tick()
  expect(idle).toBe(false)
  write.release()
  await tick()
  expect(idle).toBe(false)
  for (const r of reads) r.release()
  await Promise.all([...reads.map((r) => r.done), write.done])
  await whenIdle
  expect(idle).toBe(true)
  expect(log.filter((l) => l.startsWith('end'))).toHaveLength(READS_IN_FLIGHT + 3)
})

test('while a write waits, reads are sent one at a time: once it has aged it waits for one read, not for several', async () => {
  const s = new StoreScheduler()
  const log: string[] = []
  const first = Array.from({ length: READS_IN_FLIGHT }, (_, i) => turn(s, 'read', log, `r${i}`))
  await tick()
  const write = turn(s, 'write', log, 'w')
  const queued = Array.from({ length: READS_IN_FLIGHT }, (_, i) => turn(s, 'read', log, `q${i}`))
  for (const r of first) r.release()
  await Promise.all(first.map((r) => r.done))
  await tick()
  // one queued read went (reads first), the others wait behind it (before: all of them were sent at once)
  expect(s.readsInFlight).toBe(1)
  expect(log.filter((l) => l.startsWith('start q'))).toEqual(['start q0'])
  await new Promise((r) => setTimeout(r, AGING_MS.write + 5))
  queued[0]!.release()
  await queued[0]!.done
  await tick()
  // aged: the write goes as soon as that one read ended
  expect(log.at(-1)).toBe('start w')
  write.release()
  await write.done
  for (const r of queued) r.release()
  await Promise.all(queued.map((r) => r.done))
})

test('a bulk read (a page of a stream) waits behind reads and transactions, and runs one at a time', async () => {
  const s = new StoreScheduler()
  const log: string[] = []
  const read = turn(s, 'read', log, 'r')
  await tick()
  const pages = [turn(s, 'bulk', log, 'p0'), turn(s, 'bulk', log, 'p1')]
  const write = turn(s, 'write', log, 'w')
  await tick()
  expect(log).toEqual(['start r'])
  read.release()
  await read.done
  await new Promise((r) => setTimeout(r, 5))
  // the young write went before the pages that waited longer
  expect(log.at(-1)).toBe('start w')
  write.release()
  await write.done
  await new Promise((r) => setTimeout(r, 5))
  expect(log.filter((l) => l.startsWith('start p'))).toEqual(['start p0'])
  // an interactive read does not wait for a page to end before it is sent
  const late = turn(s, 'read', log, 'late')
  await tick()
  expect(log.at(-1)).toBe('start late')
  expect(log).not.toContain('start p1')
  pages[0]!.release()
  late.release()
  await Promise.all([pages[0]!.done, late.done])
  await new Promise((r) => setTimeout(r, 5))
  expect(log.at(-1)).toBe('start p1')
  pages[1]!.release()
  await pages[1]!.done
})

test('a sequence of foreground statements, each made when the last one answers, runs without a bulk read between two of them', async () => {
  const s = new StoreScheduler()
  const order: string[] = []
  let pagesDone = 0
  let stop = false
  // a stream: one page after another, each a few milliseconds
  const stream = (async () => {
    while (!stop) {
      await s.run('bulk', async () => {
        order.push('page')
        await new Promise((r) => setTimeout(r, 2))
      })
      pagesDone++
    }
  })()
  while (pagesDone < 2) await tick()
  // an update's block-paged read: 20 statements, each sent when the one before answered
  for (let i = 0; i < 20; i++) await s.run('read', async () => void order.push('read'))
  stop = true
  await stream
  const reads = order.map((o, i) => (o === 'read' ? i : -1)).filter((i) => i >= 0)
  // every read after the first came right after the one before it (before: a page came between each two of them)
  expect(reads.at(-1)! - reads[0]!).toBe(19)
})

test(`a bulk read is never starved: behind a steady stream of reads it goes once it has waited ${AGING_MS.bulk} ms`, async () => {
  const s = new StoreScheduler()
  let stop = false
  const readers = Array.from({ length: 4 }, async () => {
    while (!stop) await s.run('read', () => new Promise((r) => setTimeout(r, 1)))
  })
  await tick()
  const asked = performance.now()
  let waited = -1
  await s.run('bulk', async () => void (waited = performance.now() - asked))
  stop = true
  await Promise.all(readers)
  expect(waited).toBeGreaterThanOrEqual(AGING_MS.bulk - 1)
  // generous: the aging limit plus the reads in flight, on a loaded machine
  expect(waited).toBeLessThan(AGING_MS.bulk * 20)
})
