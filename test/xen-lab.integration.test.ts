import { describe, expect, it } from 'vitest'
import type { Core } from '../src/main/core'
import type { XlDriver } from '../src/main/hypervisors/xen-xl/driver'
import type { XenLabUpResult } from '../src/main/lab/xen/xen-lab'
import { XEN_VM } from '../src/main/lab/xen/xen-lab'
import { storedTrace, traceGaps } from '../src/main/migration/probe'
import { killMigrateReceive, readConsole } from '../src/main/remote/xl'
import { pollUntil } from '../src/main/util/poll'
import { migrationParams, type RunDetail } from '../src/shared/contract/migration'
import { PHASE_EVENT } from '../src/shared/metrics'
import { xenLabPerFile, xenLabSkipReason } from './fixtures/xen-lab'
import { tempDir } from './helpers'
import { NIC_KEYS, nicFromEvents } from './fixtures/nic-events'

// Two real Xen 4.17 hosts (QEMU TCG guests) with dom0s reached over SSH like real nodes, a PV guest,
// `xl migrate` between them, MigLab's probe from this machine. Own prefix and subnet, so a user's
// Xen lab on this host is never touched. The dom0 image cache is shared across runs (XEN_TEST_CACHE).
const PREFIX = 'mxt'
const SUBNET = '198.19.212.0/24'
// The guest prints its uptime on its console every second: read back from each host's console log.
const UPTIME = 'while :; do echo "uptime $(cut -d. -f1 /proc/uptime)"; sleep 1; done'

const reason = xenLabSkipReason
const dataDir = tempDir()
let core: Core
let up: XenLabUpResult

const xlDriver = () => core.services.drivers.xl as XlDriver
const phasesOf = (run: RunDetail) => run.events.filter((e) => e.kind === PHASE_EVENT).map((e) => ({ phase: (e.data as { phase: string }).phase, tMs: e.tMs }))
const firstAt = (run: RunDetail, phase: string) => phasesOf(run).find((p) => p.phase === phase)?.tMs

async function uptimes(node: string): Promise<number[]> {
  const link = core.services.xenLab.links().find((l) => l.name === node)!
  const r = await link.exec(readConsole(XEN_VM), { timeoutMs: 30_000 })
  return [...r.stdout.matchAll(/^uptime (\d+)/gm)].map((m) => Number(m[1]))
}

async function experiment(from: string, to: string): Promise<RunDetail> {
  const labId = up.labId
  const job = await core.handlers['experiments.start']({
    labId,
    vm: XEN_VM,
    from,
    to,
    strategies: ['precopy'],
    workloads: [{ kind: 'custom', command: UPTIME }],
    repetitions: 1,
    // A 10 ms probe: a 1 ms one slows xl migrate under TCG to 37–63 s (XEN-LAB-RECIPE.md).
    params: migrationParams.parse({ probeIntervalMs: 10, reuseGuest: true, timeoutMs: 600_000 }),
  })
  const done = await core.services.jobs.wait(job.id)
  expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
  const [id] = (done.result as { runIds: number[] }).runIds
  return core.handlers['runs.get']({ id })
}

function expectXlRun(run: RunDetail, from: string, to: string): void {
  expect(run.status).toBe('succeeded')
  expect(run.params).toMatchObject({ from, to })
  // The phase timeline, in xl's order, each line stamped as it arrived.
  const order = ['begin', 'ready', 'restored', 'transfer_complete', 'permission', 'started', 'successful']
  const times = order.map((p) => firstAt(run, p))
  expect(times.every((t) => t !== undefined), JSON.stringify(phasesOf(run))).toBe(true)
  expect([...(times as number[])].sort((a, b) => a - b)).toEqual(times)
  // xl phase figures are recomputable from those stamps.
  const m = run.metrics
  expect(m.total_ms).toBeCloseTo(firstAt(run, 'successful')! - firstAt(run, 'begin')!, 6)
  expect(m.xl_stream_ms).toBeCloseTo(firstAt(run, 'restored')! - firstAt(run, 'ready')!, 6)
  expect(m.xl_attach_ms).toBeCloseTo(firstAt(run, 'transfer_complete')! - firstAt(run, 'restored')!, 6)
  expect(m.xl_start_ms).toBeCloseTo(firstAt(run, 'started')! - firstAt(run, 'transfer_complete')!, 6)
  // The client-observed gap, from the run's own samples, across the guest's start on the target.
  expect(m.probe_baseline_clean).toBe(1)
  expect(m.probe_gap_ms).toBeGreaterThan(0)
  expect(m.probe_gap_open).toBe(0)
  expect(traceGaps(storedTrace(run)!).gap?.ms).toBeCloseTo(m.probe_gap_ms!, 6)
  // Data sent, from both dom0s' NIC counters: at least the guest's 128 MiB of memory crossed.
  expect(m.src_tx_bytes).toBeGreaterThan(100 * 2 ** 20)
  expect(m.dst_rx_bytes).toBeGreaterThan(100 * 2 ** 20)
  // ...and exactly the differences of the counters the run stored.
  expect(nicFromEvents(run)).toEqual(Object.fromEntries(NIC_KEYS.map((k) => [k, m[k]])))
  // What libxl does not report is absent with the reason, never 0.
  for (const k of ['qemu_downtime_ms', 'stop_resume_ms', 'transferred_bytes', 'passes']) expect(m).not.toHaveProperty(k)
  const unmeasured = Object.assign({}, ...run.events.filter((e) => e.kind === 'unmeasured').map((e) => e.data)) as Record<string, string>
  expect(unmeasured.qemu_downtime_ms).toMatch(/libxl reports no downtime/)
  expect(unmeasured.transferred_bytes).toMatch(/NIC counters/)
}

describe.skipIf(!!reason)('the Xen demo lab: two Xen hosts, xl migrate there and back', () => {
  xenLabPerFile({ dataDir, prefix: PREFIX, subnet: SUBNET }, (c, u) => {
    core = c
    up = u
  })

  it('lab up passed the integrity gate on both hosts and pinned each dom0 host key', async () => {
    expect(up.gate.hosts.map((h) => [h.node, h.ok])).toEqual([
      [`${PREFIX}-n1`, true],
      [`${PREFIX}-n2`, true],
    ])
    const lab = core.services.labs.get(up.labId)!
    expect(lab).toMatchObject({ name: 'demo-xen', kind: 'demo', hypervisor: 'xl' })
    for (const n of lab.nodes) expect(core.services.hostKeys.get(n.host, 22)).toBeTruthy()
    const status = await core.handlers['demo.status']({ hypervisor: 'xen' })
    expect(status).toMatchObject({ state: 'up', prefix: PREFIX, problems: [] })
  })

  it('boots the guest on A, migrates it A → B and back with xl: gap, phase timeline and data sent per run; its uptime continues', async () => {
    const [a, b] = core.services.labs.get(up.labId)!.nodes.map((n) => n.name)
    const there = await experiment(a, b)
    expectXlRun(there, a, b)
    expect(there.events.some((e) => e.kind === 'phase' && (e.data as { phase: string }).phase === 'boot')).toBe(true)
    const onA = await uptimes(a)
    const onB = await uptimes(b)
    expect(onA.length).toBeGreaterThan(0)
    expect(onB.length).toBeGreaterThan(0)
    // A reboot would start again near 0: the first uptime B's console shows follows A's last.
    expect(onB[0]).toBeGreaterThanOrEqual(onA.at(-1)!)

    const back = await experiment(a, b) // reuseGuest: migrated from where it runs (B) back to A
    expectXlRun(back, b, a)
    expect(back.events.some((e) => e.kind === 'phase' && (e.data as { phase: string }).phase === 'reuse')).toBe(true)
    expect((await uptimes(a)).at(-1)!).toBeGreaterThan(onB.at(-1)!)
    const vms = await core.handlers['vms.list']({ labId: up.labId })
    expect(vms.filter((v) => v.name === XEN_VM).map((v) => [v.node, v.state])).toEqual([[a, 'running']])
    console.log(
      [there, back]
        .map((r) => `${r.params.from}→${r.params.to}: gap ${r.metrics.probe_gap_ms?.toFixed(0)} ms, xl total ${r.metrics.total_ms?.toFixed(0)} ms (stream ${r.metrics.xl_stream_ms?.toFixed(0)}, attach ${r.metrics.xl_attach_ms?.toFixed(0)}, start ${r.metrics.xl_start_ms?.toFixed(0)}), src tx ${((r.metrics.src_tx_bytes ?? 0) / 2 ** 20).toFixed(1)} MiB`)
        .join('\n'),
    )
  }, 900_000)

  it('fault: the destination\'s xl migrate-receive killed mid-stream → the guest keeps running on the source, exactly once, and the run is stored as failed with its figures', async () => {
    const [a, b] = core.services.labs.get(up.labId)!.nodes.map((n) => n.name)
    const linkB = core.services.xenLab.links()[1]
    const job = await core.handlers['experiments.start']({
      labId: up.labId,
      vm: XEN_VM,
      from: a,
      to: b,
      strategies: ['precopy'],
      workloads: [{ kind: 'custom', command: UPTIME }],
      repetitions: 1,
      params: migrationParams.parse({ probeIntervalMs: 10, timeoutMs: 600_000 }),
    })
    // The receiving domain exists once the stream has begun: kill its xl then.
    const incoming = await pollUntil(async () => ((await xlDriver().domains(linkB)).some((d) => d.name === `${XEN_VM}--incoming`) ? true : undefined), { timeoutMs: 300_000, intervalMs: 200 })
    expect(incoming).toBe(true)
    const killed = await linkB.exec(killMigrateReceive(), { timeoutMs: 30_000 })
    expect(killed.code).toBe(0)
    const done = await core.services.jobs.wait(job.id)
    // The experiment ran to its end; its one run failed.
    expect(done.status).toBe('succeeded')
    expect(done.result).toMatchObject({ succeeded: 0, failed: 1 })
    // The newest run of the lab is this job's only run.
    const run = (await core.handlers['runs.list']({ labId: up.labId })).reduce((x, y) => (y.id > x.id ? y : x))
    const detail = await core.handlers['runs.get']({ id: run!.id })
    expect(detail.status).toBe('failed')
    expect(detail.error?.code).toBe('migration_failed')
    expect(detail.error?.message).toMatch(new RegExp(`the VM runs on ${a}`))
    // What was measured up to the failure is kept: the probe and both NICs.
    expect(detail.metrics.probe_sent).toBeGreaterThan(0)
    expect(detail.metrics.src_tx_bytes).toBeGreaterThan(0)
    expect(phasesOf(detail).map((p) => p.phase)).toContain('ready')
    // Exactly once, running, on the source; nothing left on the destination.
    const vms = await core.handlers['vms.list']({ labId: up.labId })
    expect(vms.filter((v) => v.name === XEN_VM).map((v) => [v.node, v.state])).toEqual([[a, 'running']])
    expect((await xlDriver().domains(linkB)).filter((d) => d.name.startsWith(XEN_VM))).toEqual([])
    // And it still answers: its uptime keeps growing on A's console.
    const before = (await uptimes(a)).at(-1) ?? -1
    expect(await pollUntil(async () => (((await uptimes(a)).at(-1) ?? -1) > before ? true : undefined), { timeoutMs: 30_000, intervalMs: 1000 })).toBe(true)
  }, 900_000)
})
