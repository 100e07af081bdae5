import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { migrationParams } from '../src/shared/contract/migration'
import type { VmSpec } from '../src/main/hypervisors/driver'
import { NodeClocks } from '../src/main/hypervisors/node-clock'
import { QemuDriver } from '../src/main/hypervisors/qemu/driver'
import { runExperiment, type Experiment } from '../src/main/migration/runner'
import { RunWriter } from '../src/main/store/run-writer'
import { LocalNodeLink } from './fixtures/local-node-link'
import { buildTinyGuest, TINY_READY } from './fixtures/tiny-guest'
import { hasQemu, liveProcessesMentioning } from './fixtures/qemu-processes'
import { tempCore } from './helpers'

const t = tempCore()
const runDir = join(t.dataDir, 'run')
// The dsm runs' RAM folder: this test's own in /dev/shm, removed with everything else.
const shmDir = `/dev/shm/mgrunner-${process.pid}`
const A = new LocalNodeLink('node-a', '127.0.0.1')
const B = new LocalNodeLink('node-b', '127.0.0.1')
const clocks = new NodeClocks()
const driver = new QemuDriver({ runDir, accel: 'tcg', clocks })
// The tiny test guest has no network, so there is nothing to probe: its runs must carry no client
// figures at all (not zeros). The demo-lab tests measure the client-observed gap on a real guest.
let spec: VmSpec

const ourQemus = (): number[] => liveProcessesMentioning(runDir)

const experiment = (x: Partial<Experiment>): Experiment => ({
  labId: null,
  vm: spec,
  from: A,
  to: B,
  strategies: ['precopy'],
  workloads: [{ kind: 'idle' }],
  repetitions: 1,
  params: migrationParams.parse({ sharedMemoryDir: shmDir, probeIntervalMs: 2 }),
  ...x,
})

describe.skipIf(!hasQemu)('experiment runner with real QEMU', () => {
  beforeAll(async () => {
    spec = { name: 'runner-vm', memoryMiB: 128, kernel: buildTinyGuest(t.dataDir), readyMarker: TINY_READY }
  })

  // Each test leaves no VM behind, even when it fails.
  afterEach(async () => {
    for (const n of [A, B]) await driver.stop(n, spec.name).catch(() => undefined)
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
  })

  afterAll(async () => {
    rmSync(shmDir, { recursive: true, force: true })
    await driver.close()
    await t.dispose()
  })

  it('runs the matrix as one job, stores every run with its samples, events and the three downtimes', async () => {
    const { core } = t
    const writer = new RunWriter(core.services.db)
    const job = core.services.jobs.start('experiment', 'test experiment', {}, (ctx) =>
      runExperiment(ctx, { driver, writer, clocks }, experiment({ strategies: ['precopy', 'dsm'], repetitions: 2 })),
    )
    const steps: string[] = []
    const off = core.subscribe((e) => e.type === 'job' && e.job.id === job.id && steps.push(e.job.step))
    const done = await core.services.jobs.wait(job.id)
    off()
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
    expect(done.result).toMatchObject({ succeeded: 4, failed: 0 })
    expect(steps.some((s) => /Run 3\/4 · precopy · idle · rep 2\/2 · ETA \d+s/.test(s))).toBe(true)

    const runs = await core.handlers['runs.list']({})
    expect(runs).toHaveLength(4)
    for (const r of runs) {
      expect(r.status).toBe('succeeded')
      expect(r.metrics.total_ms).toBeGreaterThan(0)
      expect(r.metrics.stop_resume_ms).toBeGreaterThan(0)
      expect(r.metrics.transferred_bytes).toBeGreaterThan(0)
      // QEMU's downtime is whole ms: 0 is a real "under 1 ms" (a tiny guest), but it must be there.
      expect(Number.isInteger(r.metrics.qemu_downtime_ms)).toBe(true)
      expect(r.metrics.qemu_downtime_ms).toBeLessThanOrEqual(r.metrics.total_ms)
      // The per-run overhead is measured: the whole run takes longer than its migration.
      expect(r.metrics.run_wall_ms).toBeGreaterThan(r.metrics.wall_ms)
      // Nothing was probed: no client figure at all, rather than zeros.
      expect(Object.keys(r.metrics).filter((k) => k.startsWith('probe_'))).toEqual([])
    }
    const detail = await core.handlers['runs.get']({ id: runs[0].id })
    expect(detail.samples['qemu.remaining_bytes']?.length).toBeGreaterThan(0)
    expect(detail.samples['probe.rtt_ms']).toBeUndefined()
    expect(detail.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['STOP', 'RESUME', 'phase', 'status', 'downtime.stop', 'unmeasured']))
    expect(detail.events.find((e) => e.kind === 'unmeasured')!.data.probe_gap_ms).toMatch(/no UDP echo/)
    expect(detail.environment).toMatchObject({ driver: 'qemu', nodes: { 'node-a': { accel: 'tcg', qemu: expect.stringContaining('QEMU') } } })
    expect(detail.params).toMatchObject({ strategy: runs[0].strategy, maxBandwidthMiBs: 1024 })

    const cmp = await core.handlers['runs.compare']({ ids: runs.map((r) => r.id) })
    const dsm = cmp.groups.find((g) => g.strategy === 'dsm')!
    expect(dsm.metrics.transferred_bytes.n).toBe(2)
    expect(dsm.metrics.transferred_bytes.changePct).toBeLessThan(-90)
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-b'])
  })

  it('reuseGuest: a guest already running with the run\'s definition is migrated as it is, runs alternate direction, only the first boots', async () => {
    const { core } = t
    const writer = new RunWriter(core.services.db)
    const before = new Set((await core.handlers['runs.list']({})).map((r) => r.id))
    const job = core.services.jobs.start('experiment', 'reuse', {}, (ctx) =>
      runExperiment(ctx, { driver, writer, clocks }, experiment({ repetitions: 3, params: migrationParams.parse({ reuseGuest: true }) })),
    )
    expect((await core.services.jobs.wait(job.id)).status).toBe('succeeded')
    const runs = await Promise.all((await core.handlers['runs.list']({})).filter((r) => !before.has(r.id)).reverse().map((r) => core.handlers['runs.get']({ id: r.id })))
    expect(runs.map((r) => [r.status, r.params.from, r.params.to])).toEqual([
      ['succeeded', 'node-a', 'node-b'],
      ['succeeded', 'node-b', 'node-a'],
      ['succeeded', 'node-a', 'node-b'],
    ])
    expect(runs.map((r) => r.metrics.boot_ms !== undefined)).toEqual([true, false, false])
    for (const r of runs.slice(1)) expect(r.events.find((e) => e.kind === 'unmeasured' && e.data.boot_ms)?.data.boot_ms).toMatch(/reused/)
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-b'])
  })

  it('a cancel during a run stops the job, stores the run as cancelled with what it measured, and leaves the VM running once', async () => {
    const { core } = t
    const writer = new RunWriter(core.services.db)
    const before = (await core.handlers['runs.list']({})).length
    const job = core.services.jobs.start('experiment', 'cancelled experiment', {}, (ctx) =>
      runExperiment(ctx, { driver, writer, clocks }, experiment({ repetitions: 3, params: migrationParams.parse({ maxBandwidthMiBs: 1 }) })),
    )
    const off = core.subscribe((e) => {
      if (e.type === 'log' || e.type !== 'job' || e.job.id !== job.id) return
      if (/Run 1\/3/.test(e.job.step)) setTimeout(() => core.services.jobs.cancel(job.id), 4000)
    })
    const done = await core.services.jobs.wait(job.id)
    off()
    expect(done.status).toBe('cancelled')
    const runs = (await core.handlers['runs.list']({})).slice(0, -before || undefined)
    expect(runs).toHaveLength(1)
    const detail = await core.handlers['runs.get']({ id: runs[0].id })
    expect(detail.status).toBe('cancelled')
    expect(detail.error?.code).toBe('cancelled')
    expect(detail.metrics.boot_ms).toBeGreaterThan(0)
    expect(detail.samples['qemu.transferred_bytes']?.length).toBeGreaterThan(0)
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    expect(await driver.state(A, spec.name)).toBe('running')
  })
})
