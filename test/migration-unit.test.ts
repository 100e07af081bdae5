import { spawnSync } from 'node:child_process'
import { resultsTable } from '../src/main/cli/run'
import { describe, expect, it } from 'vitest'
import { migrationInputs, migrationParams, parseWorkload, workloadLabel } from '../src/shared/contract/migration'
import type { VmSpec } from '../src/main/hypervisors/driver'
import { optValue, qemuArgs, vmPaths } from '../src/main/hypervisors/qemu/command-line'
import { safeId } from '../src/main/util/safe-id'
import { DEFAULT_POSTCOPY_AFTER_MS, planMigration } from '../src/main/hypervisors/qemu/plan'
import { compareRuns } from '../src/main/migration/compare'
import { arrivals, baselineGap, probeCounts, traceGaps, type ProbeReply } from '../src/main/migration/probe'
import { ci95, changePct, mean, repetitionsNeeded, sd, t975 } from '../src/main/migration/stats'
import { appendFor, guestDefinition } from '../src/main/hypervisors/guest-definition'
import { cmd } from '../src/main/remote/command'
import { startQemu } from '../src/main/remote/vm'
import type { RunSummary } from '../src/shared/domain'

const params = (p: Record<string, unknown> = {}) => migrationParams.parse(p)
const vm: VmSpec = { name: 'guest', memoryMiB: 256, kernel: '/k', initrd: '/i', append: 'console=ttyS0 lab.ip=198.18.0.100/24', echo: { ip: '198.18.0.100', port: 7777 } }

describe('statistics', () => {
  it('matches textbook values', () => {
    const xs = [2, 4, 4, 4, 5, 5, 7, 9]
    expect(mean(xs)).toBe(5)
    expect(sd(xs)).toBeCloseTo(Math.sqrt(32 / 7), 10)
    // t(0.975, 7) = 2.365 → 2.365 · 2.138 / √8
    expect(ci95(xs)).toBeCloseTo((2.365 * Math.sqrt(32 / 7)) / Math.sqrt(8), 10)
    expect(t975(1)).toBe(12.706)
    expect(t975(10)).toBe(2.228)
    expect(t975(40)).toBeCloseTo(2.021, 3)
    expect(t975(120)).toBeCloseTo(1.98, 3)
    expect(Number.isNaN(ci95([3]))).toBe(true)
    expect(sd([3])).toBe(0)
    expect(changePct(50, 200)).toBe(-75)
    expect(Number.isNaN(changePct(1, 0))).toBe(true)
  })

  it('compares each group with the baseline of the same workload', () => {
    const run = (id: number, strategy: string, workload: string, d: number, status: RunSummary['status'] = 'succeeded'): RunSummary => ({
      id, labId: 1, vm: 'g', strategy, workload, status, startedAt: '', metrics: { qemu_downtime_ms: d }, tags: [],
    })
    const c = compareRuns([run(1, 'precopy', 'idle', 10), run(2, 'precopy', 'idle', 30), run(3, 'dsm', 'idle', 2), run(4, 'dsm', 'idle', 4), run(5, 'dsm', 'idle', 999, 'failed')])
    expect(c.groups.map((g) => g.strategy)).toEqual(['precopy', 'dsm'])
    const dsm = c.groups[1].metrics.qemu_downtime_ms
    expect(dsm).toMatchObject({ n: 2, mean: 3, changePct: -85 })
    expect(c.groups[0].metrics.qemu_downtime_ms.changePct).toBeUndefined()
  })
})

describe('strategy and parameter validation', () => {
  it('refuses shared RAM without x-ignore-shared, for every non-dsm strategy', () => {
    for (const s of ['precopy', 'postcopy', 'xbzrle', 'multifd', 'auto-converge'] as const) {
      expect(() => planMigration({ ...vm, sharedMemoryPath: '/dev/shm/x' }, s, params())).toThrow(expect.objectContaining({ code: 'unsafe_shared_memory' }))
    }
    const dsm = planMigration({ ...vm, sharedMemoryPath: '/dev/shm/x' }, 'dsm', params())
    expect(dsm.capabilities['x-ignore-shared']).toBe(true)
    expect(() => planMigration(vm, 'dsm', params())).toThrow(expect.objectContaining({ code: 'shared_memory_missing' }))
  })

  it('sets matching capabilities and parameters per strategy, raising max-bandwidth from QEMU’s 128 MiB/s', () => {
    const pre = planMigration(vm, 'precopy', params())
    expect(Object.values(pre.capabilities).every((v) => !v)).toBe(true)
    expect(pre.sourceParameters['max-bandwidth']).toBe(1024 * 1024 * 1024)
    const mf = planMigration(vm, 'multifd', params({ multifdChannels: 4, downtimeLimitMs: 50 }))
    expect(mf.capabilities.multifd).toBe(true)
    expect(mf.destinationParameters).toEqual({ 'multifd-channels': 4, 'tls-creds': '' })
    // TLS on both ends when asked, explicitly off otherwise (a reused QEMU keeps its parameters).
    expect(planMigration(vm, 'precopy', params({ tls: true })).destinationParameters).toMatchObject({ 'tls-creds': 'miglab-tls' })
    expect(mf.sourceParameters).toMatchObject({ 'multifd-channels': 4, 'downtime-limit': 50 })
    const pc = planMigration(vm, 'postcopy', params())
    expect(pc.capabilities['postcopy-ram']).toBe(true)
    expect(pc.postcopy).toEqual({ afterPasses: undefined, afterMs: DEFAULT_POSTCOPY_AFTER_MS })
    expect(planMigration(vm, 'postcopy', params({ postcopyAfterPasses: 2 })).postcopy).toEqual({ afterPasses: 2, afterMs: undefined })
  })

  it('checks experiment inputs: post-copy knobs need post-copy, source ≠ destination', () => {
    const base = { labId: 1, vm: 'g', from: 'a', to: 'b', strategies: ['precopy'], workloads: [{ kind: 'idle' }], repetitions: 3 }
    const start = migrationInputs['experiments.start']
    expect(start.safeParse(base).success).toBe(true)
    expect(start.safeParse({ ...base, params: { postcopyAfterMs: 1000 } }).success).toBe(false)
    expect(start.safeParse({ ...base, strategies: ['postcopy'], params: { postcopyAfterMs: 1000 } }).success).toBe(true)
    expect(start.safeParse({ ...base, to: 'a' }).success).toBe(false)
    expect(start.safeParse({ ...base, strategies: ['teleport'] }).success).toBe(false)
    expect(start.safeParse({ ...base, params: { maxBandwidthMiBs: -1 } }).success).toBe(false)
  })

  it('parses and labels workloads', () => {
    expect(parseWorkload('dirty:64M:50')).toEqual({ kind: 'dirty', bufferMiB: 64, rateMiBs: 50 })
    expect(workloadLabel(parseWorkload('dirty:64M:50'))).toBe('dirty:64M:50')
    expect(parseWorkload('idle')).toEqual({ kind: 'idle' })
    expect(parseWorkload('custom:stress --vm 1')).toEqual({ kind: 'custom', command: 'stress --vm 1' })
    expect(() => parseWorkload('dirty:lots')).toThrow(/Unknown workload/)
  })

  it('puts workload knobs on the guest command line, replacing earlier ones', () => {
    expect(appendFor('console=ttyS0 lab.dirty=1:1 lab.echo=1', { kind: 'dirty', bufferMiB: 64, rateMiBs: 50 }, 7777)).toBe('console=ttyS0 lab.dirty=64:50 lab.echo=7777')
    expect(appendFor(undefined, { kind: 'custom', command: 'a b' })).toBe(`lab.run=${Buffer.from('a b').toString('base64')}`)
    const run = (strategy: 'dsm' | 'precopy', p = params()) => ({ strategy, workload: { kind: 'idle' as const }, params: p })
    const dsm = guestDefinition(vm, run('dsm', params({ sharedMemoryDir: '/dev/shm/' })))
    // Inside MigLab's own private directory, never a predictable name straight in /dev/shm.
    expect(dsm.sharedMemoryPath).toMatch(/^\/dev\/shm\/miglab-ram\/guest-[0-9a-f]{8}\.ram$/)
    expect(guestDefinition({ ...vm, sharedMemoryPath: '/x' }, run('precopy')).sharedMemoryPath).toBeUndefined()
    expect(() => guestDefinition(vm, run('dsm'))).toThrow(expect.objectContaining({ code: 'shared_memory_missing' }))
  })
})

describe('QEMU command line', () => {
  const hostile = `x; rm -rf / $(reboot) 'q' ,id=evil`
  const spec: VmSpec = { ...vm, name: hostile, nic: { mac: '52:54:00:12:34:56', taps: { a: 'tap0' } }, sharedMemoryPath: '/dev/shm/a,b' }

  it('follows the recipe, and a hostile VM name is just a strange name', () => {
    const paths = vmPaths('/run/miglab', 'a', hostile)
    expect(paths.dir).toMatch(/^\/run\/miglab\/a-[0-9a-f]{8}\/x__rm_-rf_[\w.-]*-[0-9a-f]{8}$/)
    expect(Buffer.byteLength(paths.qmpSocket)).toBeLessThan(108)
    const args = qemuArgs({ spec, node: 'a', paths, accel: 'tcg', incoming: true })
    const after = (flag: string) => args[args.indexOf(flag) + 1]
    // QEMU splits option values on commas: the name's comma is doubled, so no `id=evil` option appears.
    expect(after('-name')).toBe(`guest=x; rm -rf / $(reboot) 'q' ,,id=evil`)
    expect(after('-accel')).toBe('tcg,thread=single')
    expect(after('-cpu')).toBe('qemu64')
    expect(args).toEqual(expect.arrayContaining(['-nodefaults', '-no-user-config', '-no-reboot', '-daemonize']))
    expect(after('-object')).toBe('memory-backend-file,id=mem,size=256M,mem-path=/dev/shm/a,,b,share=on')
    expect(after('-machine')).toBe('memory-backend=mem')
    expect(after('-netdev')).toBe('tap,id=n0,ifname=tap0,script=no,downscript=no')
    expect(after('-device')).toBe('virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56,romfile=')
    expect(after('-incoming')).toBe('defer')
    expect(after('-qmp')).toBe(`unix:${paths.qmpSocket},server=on,wait=off`)
    // No NIC on a node without a tap; KVM uses the host CPU.
    const b = qemuArgs({ spec, node: 'b', paths, accel: 'kvm', incoming: false })
    expect(b).not.toContain('-netdev')
    expect(b).not.toContain('-incoming')
    expect(b.slice(b.indexOf('-accel'), b.indexOf('-accel') + 4)).toEqual(['-accel', 'kvm', '-cpu', 'host'])
  })

  it('quotes every argument of the remote start command', () => {
    const paths = vmPaths('/run/miglab', 'a', hostile)
    const text = startQemu([], paths.dir, paths.specFile, JSON.stringify(spec), qemuArgs({ spec, node: 'a', paths, accel: 'tcg', incoming: false })).text
    expect(text).toContain(`'guest=x; rm -rf / $(reboot) '\\''q'\\'' ,,id=evil'`)
    // What a shell makes of the quoted arguments is exactly the arguments.
    const args = qemuArgs({ spec, node: 'a', paths, accel: 'tcg', incoming: false })
    const echoed = spawnSync('sh', ['-c', cmd('printf', '%s\\0', ...args).text], { encoding: 'utf8' }).stdout.split('\0').slice(0, -1)
    expect(echoed).toEqual(args)
    expect(safeId('a/b')).not.toContain('/')
    expect(optValue('a,b,,c')).toBe('a,,b,,,,c')
  })
})

describe('probe gap on synthetic reply traces', () => {
  // 1 ms probes: `steady` are answered (0.5 ms RTT); `lost` went out and were never answered.
  const steady = (from: number, to: number, rtt = 0.5) =>
    Array.from({ length: to - from }, (_, i) => ({ seq: from + i, sentAt: from + i, receivedAt: from + i + rtt }))
  const lost = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
  const gapsOf = (replies: ProbeReply[], lostSentAt: number[], window: { startMs: number; endMs: number }, traceEndMs: number, switchover?: { stopMs: number; resumeMs: number }) =>
    traceGaps({ arrivals: arrivals(replies), lostSentAt, window, traceEndMs, switchover })

  it('finds the silence of the switchover and where it lay', () => {
    // The guest is silent for sends 100..179 (lost), replies resume at 180.
    const replies = [...steady(0, 100), ...steady(180, 300)]
    expect(probeCounts(300, replies)).toEqual({ sent: 300, received: 220, lost: 80, late: 0 })
    const { gap } = gapsOf(replies, lost(100, 180), { startMs: 50, endMs: 250 }, 300, { stopMs: 100, resumeMs: 170 })
    expect(gap!.ms).toBeCloseTo(81, 6)
    expect(gap).toMatchObject({ startMs: 99.5, endMs: 180.5, open: false })
  })

  it('a stale switch at start (no reply for 300 ms after boot) is not the migration gap', () => {
    // Replies begin only at 300 (the switch learnt the guest's new port); the migration starts at 400
    // and the switchover silences 500..560. The old analysis reported the 300 ms start-up silence.
    const replies = [...steady(300, 500), ...steady(560, 900)]
    const { gap } = gapsOf(replies, [...lost(0, 300), ...lost(500, 560)], { startMs: 400, endMs: 800 }, 900)
    expect(gap!.ms).toBeCloseTo(61, 6)
    expect(gap!.startMs).toBeCloseTo(499.5, 6)
    expect(baselineGap(arrivals(replies), 300.5, 400)).toBeCloseTo(1, 6)
  })

  it('with STOP/RESUME known, the gap is the silence across them, not a longer stall elsewhere; that one is reported apart', () => {
    // A 200 ms stall of the guest during pre-copy (sends 200..399 lost), then the switchover (600..660).
    const replies = [...steady(0, 200), ...steady(400, 600), ...steady(660, 900)]
    const { gap, longest } = gapsOf(replies, [...lost(200, 400), ...lost(600, 660)], { startMs: 100, endMs: 800 }, 900, { stopMs: 600, resumeMs: 640 })
    expect(gap!.startMs).toBeCloseTo(599.5, 6)
    expect(gap!.ms).toBeCloseTo(61, 6)
    expect(longest!.ms).toBeCloseTo(201, 6)
    expect(longest!.startMs).toBeCloseTo(199.5, 6)
  })

  it("a pause of MigLab's own (no probe sent, replies read late) is not a silence of the guest", () => {
    // Nothing was sent between 300 and 390 (a busy event loop); every probe was answered.
    const replies = [...steady(0, 300), ...steady(390, 600)]
    const { gap, longest } = gapsOf(replies, [], { startMs: 0, endMs: 600 }, 600)
    expect(gap).toBeUndefined()
    expect(longest).toBeUndefined()
  })

  it('a guest that never answers again leaves an open gap up to the end of the trace', () => {
    const replies = steady(0, 100)
    expect(gapsOf(replies, lost(100, 2000), { startMs: 50, endMs: 150 }, 2000).gap).toMatchObject({ startMs: 99.5, endMs: 2000, open: true })
    expect(gapsOf([], lost(0, 20), { startMs: 0, endMs: 10 }, 20).gap).toBeUndefined()
  })

  it('reordered and duplicate replies change nothing; late replies are counted', () => {
    const base = [...steady(0, 100), ...steady(150, 200)]
    const shuffled = [...base].reverse()
    const dupes = [...base, ...base.slice(40, 60), { seq: 120, sentAt: 120, receivedAt: 400 }]
    const w = { startMs: 0, endMs: 200 }
    expect(gapsOf(shuffled, lost(100, 150), w, 200)).toEqual(gapsOf(base, lost(100, 150), w, 200))
    expect(probeCounts(200, dupes, 250)).toEqual({ sent: 200, received: 151, lost: 49, late: 1 })
    // The late reply (arriving at 400) closes the silence after the last steady reply: not an open gap.
    expect(gapsOf(dupes, [...lost(100, 120), ...lost(121, 150), ...lost(200, 400)], { startMs: 0, endMs: 500 }, 500).gap).toMatchObject({ startMs: 199.5, endMs: 400, open: false })
  })

  it('a silence entirely outside the window does not count', () => {
    const replies = [...steady(0, 10), ...steady(500, 600), ...steady(605, 700)]
    expect(gapsOf(replies, [...lost(10, 500), ...lost(600, 605)], { startMs: 550, endMs: 650 }, 700).gap!.ms).toBeCloseTo(6, 6)
  })
})

describe('statistics that say what they can support', () => {
  const groupOf = (strategy: string, workload: string, downtimes: number[]) =>
    downtimes.map((d, i) => ({ id: i + (strategy === 'dsm' ? 100 : 0), labId: null, vm: 'g', strategy, workload, status: 'succeeded' as const, startedAt: '', metrics: { qemu_downtime_ms: d, probe_gap_ms: d + 50, probe_baseline_clean: 1 }, tags: [] }))

  it('TCG-like scatter at n = 3: the change is "not distinguishable", with the runs it would take', () => {
    // Pre-copy downtimes scattering 1..140 ms (as measured under TCG) against a DSM mean 40 % lower.
    const c = compareRuns([...groupOf('precopy', 'idle', [1, 37, 140]), ...groupOf('dsm', 'idle', [20, 30, 16])])
    const dsm = c.groups.find((g) => g.strategy === 'dsm')!.metrics.qemu_downtime_ms
    expect(dsm.change!.distinguishable).toBe(false)
    expect(dsm.change!.lo).toBeLessThan(0)
    expect(dsm.change!.hi).toBeGreaterThan(0)
    expect(dsm.change!.neededN).toBeGreaterThan(3)
    expect(resultsTable(c)).toMatch(new RegExp(`not distinguishable at n = 3 \\(≈${dsm.change!.neededN} runs each would separate them\\)`))
  })

  it('clearly separated groups are distinguishable; a run with an unclean probe baseline feeds no client figure', () => {
    const dirty = groupOf('precopy', 'idle', [100, 104, 98, 101])
    dirty[0].metrics = { ...dirty[0].metrics, probe_gap_ms: 5000, probe_baseline_clean: 0 }
    const c = compareRuns([...dirty, ...groupOf('dsm', 'idle', [5, 6, 5, 4])])
    expect(c.groups.find((g) => g.strategy === 'dsm')!.metrics.qemu_downtime_ms.change).toMatchObject({ distinguishable: true })
    const pre = c.groups.find((g) => g.strategy === 'precopy')!.metrics
    expect([pre.qemu_downtime_ms.n, pre.probe_gap_ms.n]).toEqual([4, 3])
    expect(pre.probe_gap_ms.mean).toBeCloseTo(151, 6)
  })

  it('repetitionsNeeded shrinks the interval below the observed change', () => {
    expect(repetitionsNeeded(0, 1)).toBeUndefined()
    const n = repetitionsNeeded(-40, 0.5)!
    expect(t975(2 * n - 2) * (0.5 / Math.sqrt(n)) * 100).toBeLessThan(40)
    expect(t975(2 * (n - 1) - 2) * (0.5 / Math.sqrt(n - 1)) * 100).toBeGreaterThanOrEqual(40)
  })
})
