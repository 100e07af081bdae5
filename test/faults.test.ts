import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { DEFAULT_RUN_DIR, vmPaths } from '../src/main/hypervisors/qemu/command-line'
import { DEMO_VM } from '../src/main/migration/demo-vm'
import type { Workload } from '../src/shared/contract/migration'
import { migrationParams } from '../src/shared/contract/migration'
import { liveProcessesMentioning } from './fixtures/qemu-processes'
import { demoLabSkipReason, quiet, seedGuestCache, stopGuestEverywhere } from './fixtures/demo-lab'
import { tempDir } from './helpers'

// Faults in the middle of a live migration on the demo lab (real sshd, QEMU, SSH pool). Each ends with
// the VM running exactly once and the run stored with what it measured.
const PREFIX = 'mgflt'
const SUBNET = '198.19.216.0/24'

const reason = demoLabSkipReason

const dataDir = tempDir()
let core: Core
let labId: number
let a: string
let b: string
const ourQemus = (): number[] => liveProcessesMentioning(`${DEFAULT_RUN_DIR}/${PREFIX}-`)

/** Starts a one-run experiment A → B and resolves once QEMU reports the migration active. */
async function migrating(workload: Workload, maxBandwidthMiBs: number): Promise<{ jobId: string; runId: number }> {
  const job = await core.handlers['experiments.start']({
    labId,
    vm: DEMO_VM,
    from: a,
    to: b,
    strategies: ['precopy'],
    workloads: [workload],
    repetitions: 1,
    params: migrationParams.parse({ maxBandwidthMiBs, multifdChannels: 2, probeIntervalMs: 1, timeoutMs: 120_000 }),
  })
  const deadline = Date.now() + 120_000
  for (;;) {
    const row = core.services.db.prepare(`SELECT e.run_id AS runId FROM events e JOIN runs r ON r.id = e.run_id WHERE r.job_id = ? AND e.kind = 'status' AND e.data LIKE '%"active"%'`).get(job.id) as
      | { runId: number }
      | undefined
    if (row) return { jobId: job.id, runId: row.runId }
    if (Date.now() > deadline) throw new Error('the migration never became active')
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function runningCopies(): Promise<[string, string][]> {
  return (await core.handlers['vms.list']({ labId })).filter((v) => v.name === DEMO_VM).map((v) => [v.node, v.state])
}

describe.skipIf(!!reason)('faults mid-migration on the demo lab', () => {
  beforeAll(async () => {
    seedGuestCache(dataDir)
    core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    labId = (await core.services.demoLab.up({ subnet: SUBNET, nodes: 2 }, quiet)).labId
    ;[a, b] = core.services.labs.get(labId)!.nodes.map((n) => n.name)
  }, 240_000)

  afterEach(async () => {
    execFileSync('ip', ['link', 'set', `${PREFIX}0`, 'up'])
    await stopGuestEverywhere(core, labId)
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
  }, 120_000)

  afterAll(async () => {
    await core?.services.demoLab.down(quiet)
    await core?.close()
  }, 120_000)

  it('the destination QEMU killed mid-migration: the run fails with its figures, the VM runs on the source only', async () => {
    // 16 MiB/s against a guest dirtying 50 MiB/s: still copying when the kill comes.
    const { jobId, runId } = await migrating({ kind: 'dirty', bufferMiB: 64, rateMiBs: 50 }, 16)
    const pidFile = vmPaths(DEFAULT_RUN_DIR, b, DEMO_VM).pidFile
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL')
    await core.services.jobs.wait(jobId)
    const run = await core.handlers['runs.get']({ id: runId })
    expect(run.status).toBe('failed')
    expect(run.error?.code).toBe('migration_failed')
    expect(run.samples['qemu.transferred_bytes']?.length).toBeGreaterThan(0)
    expect(run.samples['probe.rtt_ms']?.length).toBeGreaterThan(0)
    expect(run.metrics.boot_ms).toBeGreaterThan(0)
    expect(await runningCopies()).toEqual([[a, 'running']])
  }, 300_000)

  it("the source node's sshd killed mid-migration (every sshd process of the node), then repaired: the VM runs exactly once, the run is stored", async () => {
    const { jobId, runId } = await migrating({ kind: 'echo' }, 32)
    const sshds = execFileSync('ip', ['netns', 'pids', a], { encoding: 'utf8' })
      .split('\n')
      .filter((p) => p && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd')
    expect(sshds.length).toBeGreaterThan(0)
    for (const p of sshds) process.kill(Number(p), 'SIGKILL')
    await new Promise((r) => setTimeout(r, 3000))
    await core.services.demoLab.up({}, quiet) // what "Check and repair" does
    await core.services.jobs.wait(jobId)
    const run = await core.handlers['runs.get']({ id: runId })
    expect(run.samples['qemu.transferred_bytes']?.length).toBeGreaterThan(0)
    const copies = await runningCopies()
    expect(copies).toHaveLength(1)
    expect(copies[0][1]).toBe('running')
    console.log(`sshd-killed run: ${run.status}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}, VM on ${copies[0][0]}`)
  }, 300_000)

  it("MigLab's management link down for 4 s mid-migration: the VM runs exactly once afterwards, the run is stored", async () => {
    const { jobId, runId } = await migrating({ kind: 'echo' }, 32)
    execFileSync('ip', ['link', 'set', `${PREFIX}0`, 'down'])
    await new Promise((r) => setTimeout(r, 4000))
    execFileSync('ip', ['link', 'set', `${PREFIX}0`, 'up'])
    await core.services.jobs.wait(jobId)
    const run = await core.handlers['runs.get']({ id: runId })
    expect(['succeeded', 'failed']).toContain(run.status)
    if (run.status === 'failed') expect(['after_migration_failed', 'migration_failed']).toContain(run.error?.code)
    expect(run.samples['qemu.transferred_bytes']?.length).toBeGreaterThan(0)
    const copies = await runningCopies()
    expect(copies).toHaveLength(1)
    expect(copies[0][1]).toBe('running')
    console.log(`link-down run: ${run.status}${run.error ? ` (${run.error.code}: ${run.error.message})` : ''}, VM on ${copies[0][0]}`)
  }, 300_000)
})
