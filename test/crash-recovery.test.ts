import { spawn, type ChildProcess } from 'node:child_process'
import { migrationParams } from '../src/shared/contract/migration'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createCore, type Core } from '../src/main/core'
import { DEMO_VM } from '../src/main/migration/demo-vm'
import { dbPathIn } from '../src/main/paths'
import { liveProcessesMentioning } from './fixtures/qemu-processes'
import { demoLabSkipReason, quiet, seedGuestCache, stopGuestEverywhere } from './fixtures/demo-lab'
import { tempDir } from './helpers'

// Fault: the MigLab process (the real CLI) is killed with SIGKILL in the middle of a migration on the
// demo lab. At the next start the run must keep its truth and the lab must hold exactly one guest.
const PREFIX = 'mgcrash'
const SUBNET = '198.19.215.0/24'
const root = join(__dirname, '..')

const reason = demoLabSkipReason

const dataDir = tempDir()
let core: Core | undefined
let child: ChildProcess | undefined
const ourQemus = (): number[] => liveProcessesMentioning(`/run/miglab/${PREFIX}-`)
const env = { ...process.env, MIGLAB_DATA_DIR: dataDir, MIGLAB_DEMO_PREFIX: PREFIX }

/** Polls the SQLite file as another process would, until `sql` returns a row. */
async function waitForRow(sql: string, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const db = new Database(dbPathIn(dataDir), { readonly: true, fileMustExist: true })
    try {
      const row = db.prepare(sql).get()
      if (row) return row
    } catch {
      // the schema may not exist yet
    } finally {
      db.close()
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`no row for ${sql} within ${timeoutMs} ms`)
}

describe.skipIf(!!reason)('SIGKILL of MigLab mid-migration (demo lab, real CLI)', () => {
  beforeAll(async () => {
    seedGuestCache(dataDir)
    const setup = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    try {
      await setup.services.demoLab.up({ subnet: SUBNET, nodes: 2 }, quiet)
    } finally {
      await setup.close()
    }
  }, 240_000)

  afterEach(async () => {
    child?.kill('SIGKILL')
    if (core) await stopGuestEverywhere(core, undefined)
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
  }, 60_000)

  afterAll(async () => {
    const closing = core ?? createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    try {
      await closing.services.demoLab.down(quiet)
    } finally {
      await closing.close()
    }
  }, 120_000)

  it('next start: the run is interrupted with partial figures and its real end, exactly one guest remains, a new run works', async () => {
    // A slow pre-copy (8 MiB/s of a 256 MiB guest dirtying memory) so the kill lands mid-stream.
    child = spawn(process.execPath, [join(root, 'bin/miglab.mjs'), 'run', '--lab', 'demo', '--vm', DEMO_VM, '--from', `${PREFIX}-n1`, '--to', `${PREFIX}-n2`, '--strategy', 'precopy', '--workload', 'dirty:32M:8', '--reps', '1', '--max-bandwidth', '8'], {
      env,
      stdio: 'ignore',
    })
    await waitForRow(`SELECT 1 FROM events WHERE kind = 'status' AND data LIKE '%"active"%'`, 120_000)
    await new Promise((r) => setTimeout(r, 1500))
    child.kill('SIGKILL')
    await new Promise((r) => child!.once('exit', r))
    const killedAt = Date.now()

    core = createCore({ dataDir, door: 'browser', demoPrefix: PREFIX })
    const [run] = await core.handlers['runs.list']({})
    expect(run.status).toBe('interrupted')
    // What its stored samples support, marked partial: the probe's gap (open: no reply came before the
    // kill), the data sent so far.
    expect(run.metrics.partial).toBe(1)
    expect(run.metrics.transferred_bytes).toBeGreaterThan(0)
    expect(run.metrics.probe_gap_ms).toBeGreaterThanOrEqual(0)
    // Its end is the last thing it recorded, not this start.
    expect(Date.parse(run.endedAt!)).toBeLessThanOrEqual(killedAt)
    expect(Date.parse(run.endedAt!)).toBeGreaterThan(Date.parse(run.startedAt))

    // The recovery job finds the guest and leaves exactly one copy running.
    const placement = (await waitForRow(`SELECT data FROM events WHERE kind = 'placement'`, 60_000)) as { data: string }
    const found = JSON.parse(placement.data) as { runningOn: string[] }
    expect(found.runningOn).toHaveLength(1)
    const labId = core.services.labs.list().find((l) => l.kind === 'demo')!.id
    const vms = await core.handlers['vms.list']({ labId })
    expect(vms.map((v) => [v.node, v.state])).toEqual([[found.runningOn[0], 'running']])

    // And a new run works with no manual cleanup.
    const job = await core.handlers['experiments.start']({
      labId,
      vm: DEMO_VM,
      from: found.runningOn[0],
      to: found.runningOn[0] === `${PREFIX}-n1` ? `${PREFIX}-n2` : `${PREFIX}-n1`,
      strategies: ['precopy'],
      workloads: [{ kind: 'echo' }],
      repetitions: 1,
      params: migrationParams.parse({ maxBandwidthMiBs: 1024, multifdChannels: 2, probeIntervalMs: 1, timeoutMs: 120_000 }),
    })
    const done = await core.services.jobs.wait(job.id)
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded')
  }, 400_000)
})
