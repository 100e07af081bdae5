import { describe, expect, it } from 'vitest'
import type { Core } from '../src/main/core'
import type { NodeLink } from '../src/main/hypervisors/node-link'
import { SshNodeLink } from '../src/main/hypervisors/ssh-node-link'
import { QemuDriver } from '../src/main/hypervisors/qemu/driver'
import { DEMO_VM, demoVmSpec } from '../src/main/migration/demo-vm'
import { storedTrace, traceGaps } from '../src/main/migration/probe'
import { cmd } from '../src/main/remote/command'
import { nodeKey } from '../src/main/ssh/targets'
import { pollUntil } from '../src/main/util/poll'
import { migrationParams, type RunDetail } from '../src/shared/contract/migration'
import { MigLabError } from '../src/shared/errors'
import { liveProcessesMentioning } from './fixtures/qemu-processes'
import { demoLabPerFile, demoLabSkipReason } from './fixtures/demo-lab'
import { tempDir } from './helpers'

// The demo lab for real (namespaces, each node's sshd in its own mount namespace, real QEMU, real
// OpenMPI between the nodes over the lab bridge). Own prefix and subnet.
const PREFIX = 'mldsm'
const SUBNET = '198.19.218.0/24'

const dataDir = tempDir()
let core: Core
let labId: number
let links: NodeLink[]

const DIRTY = { kind: 'dirty' as const, bufferMiB: 64, rateMiBs: 50 }

/** The dirtier's consistency reports on a node's serial console (only what that node's QEMU printed). */
async function dirtierReports(link: NodeLink, serialLog: string): Promise<{ cycles: number[]; bad: string[]; panic: boolean }> {
  const text = (await link.exec(cmd('cat', '--', serialLog))).stdout
  const cycles = [...text.matchAll(/MIGLAB-DIRTY-CYCLE cycle=\d+ bad=(\d+)/g)].map((m) => Number(m[1]))
  return { cycles, bad: text.split('\n').filter((l) => l.includes('MIGLAB-DIRTY-BAD')), panic: /Kernel panic|BUG:|list_del corruption/.test(text) }
}

/** The real MPI wizard on the lab: Open MPI, SSH trust with pinned host keys, the runtime built (idempotent). */
async function mpiWizard(): Promise<void> {
  const setup = await core.services.jobs.wait((await core.handlers['setup.run']({ labId, wizard: 'mpi', dryRun: false, options: {} })).id)
  expect(setup.status, JSON.stringify(setup.error)).toBe('succeeded')
}

describe.skipIf(!!demoLabSkipReason)('DSM over the network on the demo lab', () => {
  demoLabPerFile({ dataDir, prefix: PREFIX, subnet: SUBNET }, (c, id) => {
    core = c
    labId = id
    links = c.services.labs.get(id)!.nodes.map((n) => new SshNodeLink(c.services.ssh, nodeKey(n.id), n.name, n.host))
  })

  it('each node has memory of its own: a file in one node\'s RAM folder is not the other\'s, and the coherence proof refuses that folder', async () => {
    const ramDir = core.services.demoLab.paths.ramDir
    const [a, b] = links
    const file = `${ramDir}/written-on-${a.name}`
    expect((await a.exec(cmd('sh', '-c', 'echo "$2" > "$1" && cat "$1"', 'sh', file, 'hello'))).stdout).toBe('hello\n')
    // The other node looks at the same path and finds its own, empty tmpfs; this machine sees neither.
    expect((await b.exec(cmd('test', '-e', file))).code).toBe(1)
    expect((await b.exec(cmd('ls', '-A', ramDir))).stdout).toBe('')
    expect((await a.exec(cmd('findmnt', '-n', '-o', 'FSTYPE', ramDir))).stdout.trim()).toBe('tmpfs')
    const caps = async (dir: string) => (await core.services.drivers.qemu.capabilities(links, migrationParams.parse({ sharedMemoryDir: dir }))).find((c) => c.id === 'dsm')!
    const refused = await caps(ramDir)
    expect(refused.supported).toBe(false)
    expect(refused.reason).toMatch(new RegExp(`${b.name} does not see what ${a.name} writes in ${ramDir}: not coherent shared memory`))
    // Shared memory happens only through the lab's explicitly shared folder (one machine's memory: an ideal).
    expect(await caps(core.services.demoLab.paths.shmDir)).toMatchObject({ supported: true })
    await a.exec(cmd('rm', '-f', file))
  }, 60_000)

  it('DSM over the network is offered only once the MPI wizard has built the runtime; then a guest dirtying 50 MiB/s migrates, the runtime\'s bytes in the run, no page back in time', async () => {
    const before = (await core.handlers['migration.capabilities']({ labId })).find((c) => c.id === 'dsm-runtime')!
    expect(before).toMatchObject({ supported: false, reason: expect.stringMatching(/run the MPI wizard/) })
    await mpiWizard()
    expect(await core.handlers['migration.capabilities']({ labId })).toContainEqual(expect.objectContaining({ id: 'dsm-runtime', supported: true }))

    const [a, b] = links
    const job = await core.handlers['experiments.start']({
      labId, vm: DEMO_VM, from: a.name, to: b.name, strategies: ['dsm-runtime'], workloads: [DIRTY], repetitions: 1,
      params: migrationParams.parse({ probeIntervalMs: 1, timeoutMs: 120_000 }),
    })
    const done = await core.services.jobs.wait(job.id)
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
    const [summary] = await core.handlers['runs.list']({ labId })
    const run: RunDetail = await core.handlers['runs.get']({ id: summary.id })
    const m = run.metrics
    console.log(JSON.stringify({ strategy: run.strategy, qemu: m.qemu_downtime_ms, stopResume: m.stop_resume_ms, gap: m.probe_gap_ms, finalSync: m.dsm_final_sync_ms, finalWait: m.dsm_final_wait_ms, finalBytes: m.dsm_final_bytes, dsmBytes: m.dsm_bytes, rounds: m.dsm_rounds, presync: m.dsm_presync_ms, sent: m.transferred_bytes }))
    expect(run.status).toBe('succeeded')
    // The runtime really copied the guest's RAM over the lab bridge: its bytes are in data sent, and the
    // destination's NIC received at least that much.
    expect(m.dsm_bytes).toBeGreaterThan(DIRTY.bufferMiB * 1024 * 1024)
    expect(m.transferred_bytes).toBeGreaterThan(m.dsm_bytes)
    expect(m.dst_rx_bytes).toBeGreaterThan(m.dsm_bytes)
    // The final sync moved only what changed since the last round, and the stopped guest waited for it.
    expect(m.dsm_final_bytes).toBeLessThan(m.dsm_bytes / 4)
    expect(m.dsm_final_sync_ms).toBeLessThanOrEqual(m.stop_resume_ms)
    // Stored figures recompute from the raw samples and events.
    const dsmBytes = run.samples['dsm.bytes']!
    expect(dsmBytes.at(-1)![1]).toBe(m.dsm_bytes)
    expect(run.samples['dsm.round_pages']!.length).toBe(m.dsm_rounds + 1)
    const final = run.events.find((e) => e.kind === 'dsm' && e.data.event === 'final')!
    expect([final.data.bytes, final.data.ms]).toEqual([m.dsm_final_bytes, m.dsm_final_sync_ms])
    const gaps = traceGaps(storedTrace(run)!)
    expect([gaps.gap!.ms, gaps.gap!.startMs, gaps.gap!.endMs]).toEqual([m.probe_gap_ms, m.probe_gap_start_ms, m.probe_gap_end_ms])
    expect(m.probe_gap_open).toBe(0)
    // The guest-side check: on the destination the dirtier completes whole cycles and finds every page
    // holding the stamp it wrote one cycle before.
    const serial = (core.services.drivers.qemu as QemuDriver).paths(b, DEMO_VM).serialLog
    const seen = await pollUntil(async () => {
      const r = await dirtierReports(b, serial)
      return r.cycles.length >= 2 || r.bad.length || r.panic ? r : undefined
    }, { timeoutMs: 20_000, intervalMs: 500 })
    expect(seen, 'the dirtier reported no cycle on the destination').toBeDefined()
    expect([seen!.bad, seen!.panic, seen!.cycles.every((bad) => bad === 0)]).toEqual([[], false, true])
    expect(await (core.services.drivers.qemu as QemuDriver).whereRunning(DEMO_VM, links)).toEqual([b.name])
  }, 600_000)

  it('cancelled while the runtime copies: the guest runs on the source exactly once, no runtime process and no replica are left', async () => {
    await mpiWizard()
    const qemu = core.services.drivers.qemu as QemuDriver
    const settings = core.services.demoLab.paths.readSettings()!
    const params = migrationParams.parse({ nodeMemoryDir: core.services.demoLab.paths.ramDir })
    const spec = qemu.definition(demoVmSpec(core.services.demoLab.plan(), settings.guestImage!), { strategy: 'dsm-runtime', workload: DIRTY, params })
    const [a, b] = links
    await qemu.start(a, spec)
    const abort = new AbortController()
    const t0 = performance.now()
    const events: string[] = []
    const err = await qemu
      .migrate(DEMO_VM, a, b, 'dsm-runtime', params, {
        clock: () => performance.now() - t0,
        signal: abort.signal,
        // Cancel once the runtime's first line (its start-up) is in: mid-copy.
        onEvent: (e) => {
          events.push(String(e.data.event ?? e.data.phase ?? e.kind))
          if (e.kind === 'dsm' && e.data.event === 'ready') abort.abort()
        },
      })
      .catch((e: MigLabError) => e)
    expect((err as MigLabError).code).toBe('cancelled')
    expect(events).toEqual(expect.arrayContaining(['dsm-runtime-start', 'ready', 'stopped', 'rolled-back']))
    expect(await qemu.whereRunning(DEMO_VM, links)).toEqual([a.name])
    expect(await qemu.state(a, DEMO_VM)).toBe('running')
    expect((await b.exec(cmd('test', '-e', spec.localMemoryPath!))).code).toBe(1)
    expect((await a.exec(cmd('test', '-e', spec.localMemoryPath!))).code).toBe(0)
    // Both nodes are namespaces of this machine: its process list shows mpirun and both ranks.
    const gone = await pollUntil(() => (liveProcessesMentioning('.miglab/dsm/miglab-dsm').length === 0 ? true : undefined), { timeoutMs: 10_000, intervalMs: 200 })
    expect(gone, 'a runtime process outlived the cancel').toBe(true)
  }, 300_000)

  it('the same migration with the final sync skipped (test only) fails the check: a page goes back in time, or the guest dies', async () => {
    await mpiWizard()
    const settings = core.services.demoLab.paths.readSettings()!
    const lab = core.services.labs.get(labId)!
    const plan = core.services.demoLab.plan()
    const base = demoVmSpec(plan, settings.guestImage!)
    const params = migrationParams.parse({ nodeMemoryDir: core.services.demoLab.paths.ramDir })
    const skipping = new QemuDriver({ accel: 'tcg', testOnlySkipDsmFinalSync: true })
    const [a, b] = links
    try {
      const spec = skipping.definition(base, { strategy: 'dsm-runtime', workload: DIRTY, params })
      await skipping.start(a, spec)
      // Let the dirtier run a whole cycle on the source first (it checks from its second cycle on).
      await pollUntil(async () => ((await dirtierReports(a, skipping.paths(a, DEMO_VM).serialLog)).cycles.length >= 1 ? true : undefined), { timeoutMs: 30_000, intervalMs: 500 })
      // The destination's console as it happens (MigLab removes a dead copy's files).
      const consoleB: string[] = []
      const stopTail = new AbortController()
      const tail = b.exec(cmd('tail', '-n', '+1', '-F', skipping.paths(b, DEMO_VM).serialLog), { signal: stopTail.signal, onStdout: (c) => consoleB.push(c.toString()) }).catch(() => undefined)
      const t0 = performance.now()
      const outcome = await skipping.migrate(DEMO_VM, a, b, 'dsm-runtime', params, { clock: () => performance.now() - t0 }).then(
        () => 'completed',
        (e: MigLabError) => {
          console.log(e.message, JSON.stringify(e.detail))
          return e.code
        },
      )
      expect(lab.nodes.length).toBe(2)
      await new Promise((r) => setTimeout(r, 1000))
      stopTail.abort()
      await tail
      console.log(`destination console after the switchover:\n${consoleB.join('').split('\n').filter((l) => /BUG|panic|corruption|MIGLAB-DIRTY|Oops|error/i.test(l)).slice(0, 12).join('\n')}`)
      if (outcome === 'completed') {
        // The destination resumed on a stale replica: the dirtier finds a page from the past, or the kernel dies.
        const serial = skipping.paths(b, DEMO_VM).serialLog
        const failed = await pollUntil(async () => {
          const r = await dirtierReports(b, serial)
          if (r.bad.length || r.panic || r.cycles.some((n) => n > 0)) return r
          return (await skipping.whereRunning(DEMO_VM, [b])).length === 0 ? { ...r, panic: true } : undefined
        }, { timeoutMs: 20_000, intervalMs: 500 })
        console.log(JSON.stringify({ outcome, failed }))
        expect(failed, 'the guest ran on for 20 s on a stale replica and its check never failed').toBeDefined()
      } else {
        // The destination's guest died right after the switchover (its QEMU exits: -no-reboot). Either
        // the source's copy was still there and resumed, or it had already been quit and nothing runs.
        console.log(JSON.stringify({ outcome }))
        // Its console says why when it had time to print (seen here: `BUG: unable to handle page fault`,
        // `Kernel panic`); once (CI, 2026-11-26) it died before printing anything, so a silent console is
        // accepted, but a console that printed must show the failure.
        const printed = consoleB.join('')
        if (printed.trim()) expect(printed).toMatch(/Kernel panic|BUG:|Oops|corruption|MIGLAB-DIRTY-BAD/)
        const where = await skipping.whereRunning(DEMO_VM, links)
        expect([outcome, where]).toEqual(outcome === 'after_migration_failed' ? ['after_migration_failed', [a.name]] : ['vm_state_unclear', []])
      }
    } finally {
      for (const n of links) await skipping.stop(n, DEMO_VM).catch(() => undefined)
      await skipping.close()
    }
  }, 300_000)
})
