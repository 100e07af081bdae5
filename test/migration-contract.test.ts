import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { dispatch } from '../src/main/doors/dispatch'
import { RunWriter } from '../src/main/store/run-writer'
import { tempCore, tempDir } from './helpers'

let dispose: (() => Promise<void>) | undefined
afterEach(async () => dispose?.())

describe('migration contract at the door', () => {
  it('refuses bad experiments before the core sees them, and unknown labs and runs with a code', async () => {
    const t = tempCore()
    dispose = t.dispose
    const bad = await dispatch(t.core.handlers, 'experiments.start', { labId: 1, vm: 'g', from: 'a', to: 'a', strategies: ['teleport'], workloads: [], repetitions: 0 })
    expect(bad.ok).toBe(false)
    if (!bad.ok) expect(bad.error.detail?.issues?.map((i) => i.path)).toEqual(expect.arrayContaining(['strategies.0', 'workloads', 'repetitions']))
    expect(await dispatch(t.core.handlers, 'vms.list', { labId: 42 })).toMatchObject({ ok: false, error: { code: 'lab_not_found' } })
    expect(await dispatch(t.core.handlers, 'runs.get', { id: 7 })).toMatchObject({ ok: false, error: { code: 'run_not_found' } })
  })

  it("offers the migration network choice only where the lab's driver has one, and takes network uuids only", async () => {
    const t = tempCore()
    dispose = t.dispose
    const xen = await t.core.handlers['labs.create']({ name: 'pool', description: '', hypervisor: 'xen' })
    const qemu = await t.core.handlers['labs.create']({ name: 'kvm', description: '', hypervisor: 'qemu' })
    // A lab without nodes: the xe driver answers from no host, so the list is empty but the choice exists.
    expect(await dispatch(t.core.handlers, 'migration.networks', { labId: xen.id })).toEqual({ ok: true, result: { supported: true, networks: [] } })
    expect(await dispatch(t.core.handlers, 'migration.networks', { labId: qemu.id })).toMatchObject({ ok: true, result: { supported: false, reason: expect.stringMatching(/QEMU\/KVM.*no network choice/), networks: [] } })
    const bad = await dispatch(t.core.handlers, 'experiments.start', { labId: xen.id, vm: 'g', from: 'a', to: 'b', strategies: ['precopy'], workloads: [{ kind: 'idle' }], repetitions: 1, params: { migrationNetwork: 'xenbr1' } })
    expect(bad).toMatchObject({ ok: false, error: { detail: { issues: [{ path: 'params.migrationNetwork' }] } } })
  })

  it('stores a run as it is measured: samples in batches, a failed run keeps its error and metrics', async () => {
    const t = tempCore()
    dispose = t.dispose
    const w = new RunWriter(t.core.services.db)
    const id = w.create({ labId: null, jobId: null, vm: 'g', strategy: 'precopy', workload: 'idle', params: { a: 1 }, environment: { qemu: 'x' } })
    expect((await t.core.handlers['runs.get']({ id })).status).toBe('running')
    for (let i = 0; i < 1200; i++) w.sample(id, i, 'probe.rtt_ms', i % 7)
    w.event(id, 5, 'STOP', { node: 'a' })
    w.metrics(id, { probe_sent: 1200 })
    w.finish(id, 'failed', { qemu_downtime_ms: NaN }, { code: 'migration_failed', message: 'boom', detail: { qemuError: 'x' } })
    const run = await t.core.handlers['runs.get']({ id })
    expect(run).toMatchObject({ status: 'failed', metrics: { probe_sent: 1200 }, error: { code: 'migration_failed', detail: { qemuError: 'x' } }, params: { a: 1 } })
    expect(run.samples['probe.rtt_ms']).toHaveLength(1200)
    expect(run.events).toEqual([{ tMs: 5, kind: 'STOP', data: { node: 'a' } }])
  })
})

describe('CLI: run and runs export', () => {
  const dataDir = tempDir()
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }))
  const miglab = (...args: string[]) =>
    spawnSync(process.execPath, [join(__dirname, '..', 'bin', 'miglab.mjs'), ...args], { env: { ...process.env, MIGLAB_DATA_DIR: dataDir }, encoding: 'utf8', timeout: 60_000 })

  it('lists the experiment options and refuses an unknown lab with a hint', () => {
    const help = miglab('run', '--help')
    for (const o of ['--strategy', '--workload', '--reps', '--json', '--max-bandwidth']) expect(help.stdout).toContain(o)
    const out = miglab('run', '--lab', 'nope', '--vm', 'x')
    expect(out.status).toBe(1)
    expect(out.stderr).toContain('--lab: no lab called "nope"')
  })

  it('exports stored runs as CSV and JSON', () => {
    expect(miglab('runs', 'export', '--format', 'csv').stdout.split('\n')[0]).toBe('id,uuid,lab_id,lab,vm,strategy,workload,status,started_at,ended_at,duration_ms,starred,tags,notes,error_code')
    expect(JSON.parse(miglab('runs', 'export', '--format', 'json').stdout)).toMatchObject({ format: 'miglab-runs', version: 1, runs: [] })
    expect(miglab('runs', 'export', '--format', 'xml').status).toBe(1)
  })
})
