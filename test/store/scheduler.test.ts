import { expect, test } from 'bun:test'
import { AGING_MS, READS_IN_FLIGHT, StoreScheduler } from '../../src/store/index.ts'

// The embedded store's scheduler (src/store/scheduler.ts), on plain promises: who holds the store, and when.

/** A turn that holds the store until released, recording when it started. */
function turn(s: StoreScheduler, cls: 'read' | 'write' | 'background', log: string[], name: string) {
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
  reads[0]!.release()
  await tick()
  // the waiting read goes before the (young) write: reads first
  expect(log).toContain(`start r${READS_IN_FLIGHT}`)
  expect(log).not.toContain('start w')
  for (const r of reads.slice(1)) r.release()
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
