import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { migrationParams, type MigrationParams } from '../src/shared/contract/migration'
import { MigLabError } from '../src/shared/errors'
import type { MigrationEvent, VmSpec } from '../src/main/hypervisors/driver'
import { nodeDir } from '../src/main/hypervisors/qemu/command-line'
import { QemuDriver } from '../src/main/hypervisors/qemu/driver'
import { MigrationCa } from '../src/main/security/migration-ca'
import { LocalNodeLink } from './fixtures/local-node-link'
import { hasQemu, liveProcessesMentioning } from './fixtures/qemu-processes'
import { buildTinyGuest, TINY_FILLED_MIB, TINY_READY } from './fixtures/tiny-guest'
import { tempDir } from './helpers'

// Real QEMU (TCG) on this machine: two "nodes" are two LocalNodeLinks, the test stand-in for SSH.
const dir = tempDir()
const runDir = join(dir, 'run')
const netns = `mgtest${process.pid}`
const A = new LocalNodeLink('node-a', '127.0.0.1')
const B = new LocalNodeLink('node-b', '127.0.0.1')
// A destination in its own network namespace: it listens there, so the source's connection is refused.
const Isolated = new LocalNodeLink('node-isolated', '127.0.0.1', netns)
const ca = new MigrationCa(dir)
const driver = new QemuDriver({ runDir, accel: 'tcg', tls: ca })
let spec: VmSpec
const params = (p: Partial<MigrationParams> = {}): MigrationParams => migrationParams.parse(p)
const hooks = (events: MigrationEvent[] = [], signal?: AbortSignal) => {
  const t0 = performance.now()
  return { clock: () => performance.now() - t0, onEvent: (e: MigrationEvent) => events.push(e), signal }
}

const ourQemus = (): number[] => liveProcessesMentioning(runDir)
const ramDir = `/dev/shm/qmtest-${process.pid}`
const shmFile = (): string => `${ramDir}/qemu-migration-test-${process.pid}.ram`

describe.skipIf(!hasQemu)('QEMU driver: live migration between two local QEMUs', () => {
  beforeAll(() => {
    spec = { name: `tiny vm; rm -rf / $(x),y`, memoryMiB: 128, kernel: buildTinyGuest(dir), readyMarker: TINY_READY }
    execFileSync('ip', ['netns', 'add', netns])
    execFileSync('ip', ['-n', netns, 'link', 'set', 'lo', 'up'])
  })

  // Each test leaves no VM behind, even when it fails: one failure never cascades into the next.
  afterEach(async () => {
    for (const n of [A, B, Isolated]) await driver.stop(n, spec.name).catch(() => undefined)
    for (const pid of ourQemus()) process.kill(pid, 'SIGKILL')
    rmSync(shmFile(), { force: true })
  })

  afterAll(async () => {
    await driver.close()
    rmSync(dir, { recursive: true, force: true })
    rmSync(ramDir, { recursive: true, force: true })
    execFileSync('ip', ['netns', 'del', netns])
  })

  it('pre-copy: completes, measures, quits the source, leaves the VM running only on the destination', async () => {
    await driver.start(A, spec)
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    const events: MigrationEvent[] = []
    const migration = driver.migrate(spec.name, A, B, 'precopy', params(), hooks(events))
    // A second migration of the same VM is refused while the first runs.
    await expect(driver.migrate(spec.name, A, B, 'precopy', params(), hooks())).rejects.toMatchObject({ code: 'migration_in_progress' })
    const out = await migration
    const { figures, unmeasured } = out
    // Final figures only: QEMU's downtime is whole ms (0 = under 1 ms), within the total time.
    expect(unmeasured).toEqual({})
    expect(figures.total_ms).toBeGreaterThan(0)
    expect(Number.isInteger(figures.qemu_downtime_ms)).toBe(true)
    expect(figures.qemu_downtime_ms).toBeLessThanOrEqual(figures.total_ms)
    expect(figures.transferred_bytes).toBeGreaterThan(TINY_FILLED_MIB * 1024 * 1024)
    expect(figures.stop_resume_ms).toBeGreaterThan(0)
    // Both nodes run on this machine's kernel: the same clock, no estimate.
    expect(figures.clock_uncertainty_ms).toBe(0)
    expect(out.raw.sourceStateAfter).toBe('postmigrate')
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['STOP', 'RESUME', 'status']))
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-b'])
    expect(await driver.state(B, spec.name)).toBe('running')
    const listed = await driver.listVms([A, B])
    expect(listed.map((v) => [v.spec.name, v.node, v.state])).toEqual([[spec.name, 'node-b', 'running']])
    await driver.stop(B, spec.name)
    expect(ourQemus()).toEqual([])
  })

  it('cancel mid-migration: the VM keeps running on the source, the destination QEMU is gone', async () => {
    await driver.start(A, spec)
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 1000)
    // 1 MiB/s against 48 MiB of data: still copying when the cancel comes.
    await expect(driver.migrate(spec.name, A, B, 'precopy', params({ maxBandwidthMiBs: 1 }), hooks([], abort.signal))).rejects.toMatchObject({ code: 'cancelled' })
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    expect(await driver.state(A, spec.name)).toBe('running')
    expect(existsSync(driver.paths(B, spec.name).dir)).toBe(false)
  })

  it('shared memory is offered only over a coherent folder: the same memory passes, a node with its own tmpfs at that path is refused', async () => {
    const shared = join(dir, 'shared')
    mkdirSync(shared, { recursive: true })
    const dsm = async (nodes: LocalNodeLink[]) => (await driver.capabilities(nodes, params({ sharedMemoryDir: shared }))).find((c) => c.id === 'dsm')!
    expect(await dsm([A, B])).toMatchObject({ supported: true })
    const ownMemory = new LocalNodeLink('node-own', '127.0.0.1', undefined, shared)
    const refused = await dsm([A, ownMemory])
    expect(refused.supported).toBe(false)
    expect(refused.reason).toMatch(/node-own does not see what node-a writes .*not coherent shared memory/)
    expect(readdirSync(shared)).toEqual([])
  })

  it('the destination listens on its lab address only, not on every interface', async () => {
    await driver.start(A, spec)
    const Other = new LocalNodeLink('node-b', '127.0.0.2')
    const events: MigrationEvent[] = []
    await driver.migrate(spec.name, A, Other, 'precopy', params(), hooks(events))
    const uri = String(events.find((e) => e.data.phase === 'migrate')!.data.uri)
    expect(uri).toMatch(/^tcp:127\.0\.0\.2:\d+$/)
  })

  it('TLS: the stream runs over tls-creds-x509 with both ends verified; a destination whose certificate does not match its address is refused', async () => {
    await driver.start(A, spec)
    const events: MigrationEvent[] = []
    const out = await driver.migrate(spec.name, A, B, 'precopy', params({ tls: true }), hooks(events))
    expect(out.figures.total_ms).toBeGreaterThan(0)
    const phase = events.find((e) => e.data.phase === 'migrate')!.data
    expect(phase).toMatchObject({ tls: true, parameters: { 'tls-creds': 'miglab-tls', 'tls-hostname': '127.0.0.1' } })
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-b'])
    // Keys reach the node on stdin into a private folder: 0600 files in a 0700 directory.
    const tlsDir = join(nodeDir(runDir, 'node-b'), 'tls')
    expect((statSync(tlsDir).mode & 0o777).toString(8)).toBe('700')
    expect((statSync(join(tlsDir, 'server-key.pem')).mode & 0o777).toString(8)).toBe('600')
    await driver.stop(B, spec.name)

    // The same CA, but B's certificate names another address: the source must refuse to talk to it.
    const wrong = new QemuDriver({ runDir, accel: 'tcg', tls: { material: (id, address) => ca.material(id, id === B.id ? '127.0.0.9' : address) } })
    try {
      await wrong.start(A, spec)
      const err = await wrong.migrate(spec.name, A, B, 'precopy', params({ tls: true }), hooks()).catch((e: unknown) => e)
      expect((err as MigLabError).code).toBe('migration_failed')
      expect(await wrong.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    } finally {
      await wrong.stop(A, spec.name).catch(() => undefined)
      await wrong.close()
    }
  })

  it('the destination stops right after the switchover (a guest reset, a crash): the source\'s complete copy is resumed, the VM runs exactly once', async () => {
    await driver.start(A, spec)
    // A `stop` while B is still receiving turns its autostart off: B ends the migration paused and never runs the guest.
    const onEvent = (e: MigrationEvent) => {
      if (e.kind === 'MIGRATION' && e.data.role === 'destination' && e.data.status === 'active') void driver.qmp(B, spec.name).then((q) => q.execute('stop'))
    }
    const err = await driver.migrate(spec.name, A, B, 'precopy', params(), { ...hooks(), onEvent }).catch((e: unknown) => e)
    expect([(err as MigLabError).code, (err as MigLabError).message]).toEqual(['after_migration_failed', expect.stringMatching(/destination stopped after the switchover .*resumed on the source/)])
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    expect(await driver.state(A, spec.name)).toBe('running')
  }, 60_000)

  it('destination not listening where the source connects: the run fails with the cause, the VM runs on the source', async () => {
    await driver.start(A, spec)
    const err = await driver.migrate(spec.name, A, Isolated, 'precopy', params(), hooks()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(MigLabError)
    expect((err as MigLabError).code).toBe('migration_failed')
    expect((err as MigLabError).message).toMatch(/refused/i)
    expect(await driver.whereRunning(spec.name, [A, Isolated])).toEqual(['node-a'])
    expect(await driver.state(A, spec.name)).toBe('running')
  })

  it('post-copy, xbzrle, multifd and auto-converge complete with their capabilities set on both sides', async () => {
    await driver.start(A, spec)
    let [from, to] = [A, B]
    for (const strategy of ['postcopy', 'xbzrle', 'multifd', 'auto-converge'] as const) {
      const events: MigrationEvent[] = []
      const p = params(strategy === 'postcopy' ? { postcopyAfterPasses: 1, maxBandwidthMiBs: 32 } : { multifdChannels: 2 })
      const out = await driver.migrate(spec.name, from, to, strategy, p, hooks(events))
      expect(out.figures.total_ms, strategy).toBeGreaterThan(0)
      const phase = events.find((e) => e.kind === 'phase' && e.data.phase === 'migrate')!
      expect((phase.data.capabilities as Record<string, boolean>)[strategy === 'postcopy' ? 'postcopy-ram' : strategy]).toBe(true)
      if (strategy === 'postcopy') expect(events.some((e) => e.data.phase === 'postcopy-start')).toBe(true)
      expect(await driver.whereRunning(spec.name, [A, B])).toEqual([to.name])
      expect(await driver.state(to, spec.name)).toBe('running')
      ;[from, to] = [to, from]
    }
  })

  it('refuses shared RAM without x-ignore-shared before anything starts', async () => {
    await driver.start(A, { ...spec, sharedMemoryPath: shmFile() })
    await expect(driver.migrate(spec.name, A, B, 'precopy', params(), hooks())).rejects.toMatchObject({ code: 'unsafe_shared_memory' })
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-a'])
    expect(existsSync(driver.paths(B, spec.name).dir)).toBe(false)
  })

  it('dsm (shared RAM + x-ignore-shared): sends under 5 % of what pre-copy sends; its RAM file sits in a private directory', async () => {
    await driver.start(A, spec)
    const precopy = await driver.migrate(spec.name, A, B, 'precopy', params(), hooks())
    await driver.stop(B, spec.name)
    await driver.start(A, { ...spec, sharedMemoryPath: shmFile() })
    const ramDirMode = statSync(ramDir)
    expect([ramDirMode.isDirectory(), ramDirMode.mode & 0o777, ramDirMode.uid]).toEqual([true, 0o700, process.getuid!()])
    const out = await driver.migrate(spec.name, A, B, 'dsm', params(), hooks())
    expect(await driver.whereRunning(spec.name, [A, B])).toEqual(['node-b'])
    expect(await driver.state(B, spec.name)).toBe('running')
    expect(out.figures.transferred_bytes).toBeLessThan(precopy.figures.transferred_bytes * 0.05)
    await driver.stop(B, spec.name)
    expect(existsSync(shmFile())).toBe(false)
    expect(ourQemus()).toEqual([])
  })
})
